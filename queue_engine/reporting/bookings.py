"""Bookings in the reports (DESIGN §10): how many, what became of them, and the waits of booked
visitors beside those of walk-ins.

* bookings are counted by their slot's business day, in the states they are in now: booked
  (not checked in yet), checked in, missed, cancelled;
* no-show rate = missed / (checked in + missed): of the bookings whose visitor should have
  come, the share who did not (cancelled ones and those still ahead are left out);
* punctuality rate = checked in before the slot's start / checked in;
* a wait runs from when the visitor's turn could begin to the ticket's first call: for a
  walk-in from taking the number, for a booked visitor from the later of the check-in and the
  slot's start (one who came early waits for the slot by design, DESIGN §10).  Tickets with
  source ``appointment`` are the booked ones, every other source is a walk-in.

A service filter applies to both; a counter or clerk filter applies to the waits (the tickets
those served), not to the bookings, which no counter or clerk holds.
"""

from __future__ import annotations

from collections import Counter as Tally
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from queue_engine.booking.models import Booking, BookingState
from queue_engine.core.kinds import Source
from queue_engine.core.models import Ticket, TicketEvent


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def booking_counts(
    session: Session, first: date, last: date, service_id: int | None = None
) -> dict[str, Any]:
    """The period's bookings by state, with the no-show rate and the punctuality."""
    query = (
        select(Booking.state, func.count(), func.sum(_punctual()))
        .where(Booking.business_date.between(first, last))
        .group_by(Booking.state)
    )
    if service_id is not None:
        query = query.where(Booking.service_id == service_id)
    by_state = {state: (count, punctual or 0) for state, count, punctual in session.execute(query)}
    checked_in, punctual = by_state.get(BookingState.CHECKED_IN, (0, 0))
    missed = by_state.get(BookingState.MISSED, (0, 0))[0]
    return {
        "booked": sum(count for count, _ in by_state.values()),
        "waiting": by_state.get(BookingState.BOOKED, (0, 0))[0],
        "checked_in": checked_in,
        "missed": missed,
        "cancelled": by_state.get(BookingState.CANCELLED, (0, 0))[0],
        "no_show_rate": _share(missed, checked_in + missed),
        "punctual": int(punctual),
        "punctuality_rate": _share(int(punctual), checked_in),
    }


def _punctual() -> Any:
    return case((Booking.checked_in_at <= Booking.slot_start, 1), else_=0)


def wait_tallies(
    session: Session,
    first: date,
    last: date,
    *,
    service_id: int | None = None,
    counter_id: int | None = None,
    staff_id: int | None = None,
) -> tuple[Tally[int], Tally[int]]:
    """Whole-second waits to the first call: (booked visitors, walk-ins)."""
    where: list[ColumnElement[bool]] = [
        Ticket.business_date.between(first, last),
        Ticket.called_at.is_not(None),
    ]
    if service_id is not None:
        where.append(Ticket.issued_service_id == service_id)
    if counter_id is not None:
        where.append(Ticket.counter_id == counter_id)
    if staff_id is not None:
        where.append(Ticket.staff_id == staff_id)
    rows = session.execute(
        select(Ticket.id, Ticket.source, Ticket.issued_at, Ticket.queued_at, Ticket.called_at)
        .add_columns(Ticket.transfer_count)
        .where(*where)
    ).all()
    moved = [row[0] for row in rows if row[5]]
    first_calls: dict[int, Any] = {}
    if moved:
        first_calls = dict(
            session.execute(
                select(TicketEvent.ticket_id, func.min(TicketEvent.at))
                .where(TicketEvent.ticket_id.in_(moved), TicketEvent.type == "called")
                .group_by(TicketEvent.ticket_id)
            ).all()
        )
    booked: Tally[int] = Tally()
    walk_in: Tally[int] = Tally()
    for ticket_id, source, issued, queued, called, _ in rows:
        call = first_calls.get(ticket_id) or called
        if call is None:
            continue
        start = max(issued, queued or issued)
        seconds = max(0, int((call - start).total_seconds()))
        (booked if source == Source.APPOINTMENT else walk_in)[seconds] += 1
    return booked, walk_in
