"""Bookings as staff see them: the booked tickets of a queue, the day per service and slot,
and one booking's personal data opened by a supervisor (audited, DESIGN §13)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.booking.bookings import bookings_of_day, cancel_booking
from queue_engine.booking.models import Booking, BookingState
from queue_engine.core.clock import Clock
from queue_engine.core.errors import InvalidFields
from queue_engine.hall.audit import audit


def booked_slots(session: Session, ticket_ids: Iterable[int]) -> dict[int, datetime]:
    """The slot start of each ticket a booking gave (a booked ticket), by ticket id."""
    wanted = list(ticket_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Booking.ticket_id, Booking.slot_start).where(Booking.ticket_id.in_(wanted))
    ).all()
    return {ticket_id: start for ticket_id, start in rows if ticket_id is not None}


@dataclass
class SlotCount:
    """One slot's bookings of the day, by what became of them."""

    start: datetime
    end: datetime
    booked: int = 0  # every booking made, cancelled ones included
    waiting: int = 0  # booked and not (yet) checked in
    checked_in: int = 0
    punctual: int = 0  # checked in before the slot started
    missed: int = 0
    cancelled: int = 0

    def add(self, booking: Booking) -> None:
        """Count one booking."""
        self.booked += 1
        if booking.state == BookingState.BOOKED:
            self.waiting += 1
        elif booking.state == BookingState.CHECKED_IN:
            self.checked_in += 1
            if booking.checked_in_at is not None and booking.checked_in_at <= booking.slot_start:
                self.punctual += 1
        elif booking.state == BookingState.MISSED:
            self.missed += 1
        elif booking.state == BookingState.CANCELLED:
            self.cancelled += 1

    @property
    def punctuality(self) -> float | None:
        """The share of those checked in who came before the slot started."""
        return self.punctual / self.checked_in if self.checked_in else None


@dataclass
class ServiceDay:
    """A service's bookings of a day: totals, each slot, and the bookings themselves."""

    code: str
    names: dict[str, str]
    total: SlotCount
    slots: list[SlotCount] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)


def day_overview(session: Session, day: date, service_id: int | None = None) -> list[ServiceDay]:
    """A day's bookings per service and slot (booked, checked in, punctual, missed, cancelled)."""
    services: dict[int, ServiceDay] = {}
    slots: dict[tuple[int, datetime], SlotCount] = {}
    for booking in bookings_of_day(session, day, service_id):
        service = booking.service
        entry = services.get(service.id)
        if entry is None:
            entry = services[service.id] = ServiceDay(
                service.code, dict(service.names), SlotCount(booking.slot_start, booking.slot_end)
            )
        slot = slots.get((service.id, booking.slot_start))
        if slot is None:
            slot = slots[(service.id, booking.slot_start)] = SlotCount(booking.slot_start, booking.slot_end)
            entry.slots.append(slot)
        slot.add(booking)
        entry.total.add(booking)
        entry.bookings.append(booking)
    return sorted(services.values(), key=lambda s: s.code)


def open_personal_data(session: Session, clock: Clock, actor_id: int, booking: Booking) -> Booking:
    """A supervisor opens one booking's name and phone number: written to the audit log."""
    audit(session, clock, actor_id, "read_booking", f"booking:{booking.code}")
    return booking


def cancel_for_visitor(
    session: Session, clock: Clock, actor_id: int, booking: Booking, reason: str
) -> Booking:
    """Staff cancel a booking not yet checked in, saying why (the place is freed; audited)."""
    said = " ".join((reason or "").split())
    if not said:
        raise InvalidFields({"reason": "Say why the booking is cancelled. · 请填写取消原因。"})
    cancel_booking(session, clock, booking, reason=said, staff_id=actor_id)
    audit(session, clock, actor_id, "cancel_booking", f"booking:{booking.code}", after={"reason": said[:200]})
    return booking
