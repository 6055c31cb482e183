"""The business day closes by itself: after the day's closing time, what is still open expires.

``close_day_if_due`` is what a server's background task runs every minute; it is idempotent
(closing a closed day finds nothing) and safe when several processes run it at once, since
``close_business_day`` locks and re-checks the rows it changes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock, parse_hhmm
from queue_engine.core.events import record
from queue_engine.core.kinds import OPEN_STATUSES, CounterState, TicketStatus
from queue_engine.core.lookups import locked
from queue_engine.core.models import Counter, Hall, Ticket
from queue_engine.hall.calendar import hall_settings, hours_on, is_working_day
from queue_engine.queue.calling import active_ticket
from queue_engine.queue.counters import close_counter, current_session
from queue_engine.reporting.cells import finalize_days


def closing_time(hall: Hall, day: date) -> str | None:
    """When the hall's last opening interval of a day ends ('HH:MM'); None if it has no hours."""
    intervals = hours_on(hall, day)
    return max((end for _start, end in intervals), default=None)


def last_closable_day(hall: Hall, clock: Clock) -> date:
    """The latest business day whose queue should be closed by now.

    Yesterday at the latest.  Today too once its closing time plus the hall's delay has passed
    (the delay lets clerks finish with the visitors still in the hall), or all day when the
    hall does not open today.  A hall without opening hours (always open) closes at midnight.
    """
    local = clock.local()
    today = local.date()
    yesterday = today - timedelta(days=1)
    if not hall.opening_hours:
        return yesterday
    if not is_working_day(hall, today):
        return today
    end = closing_time(hall, today)
    if end is None:
        return today
    closes_at = datetime.combine(today, parse_hhmm(end), local.tzinfo) + timedelta(
        minutes=hall.day_close_delay_min
    )
    return today if local >= closes_at else yesterday


def close_day_if_due(session: Session, clock: Clock) -> tuple[date, int]:
    """Close every business day up to the last closable one; returns it and the tickets expired."""
    day = last_closable_day(hall_settings(session), clock)
    return day, close_business_day(session, clock, day)


def close_business_day(session: Session, clock: Clock, day: date | None = None) -> int:
    """Expire every ticket still open from business days up to ``day`` (default: before today).

    Nothing is deleted: expired tickets stay for the reports.  Counters left open on those
    days are closed too (see ``close_counters_left_open``).  Idempotent, and safe when several
    processes run it at once: the rows it changes are locked and re-checked.
    """
    last_day = day if day is not None else clock.today() - timedelta(days=1)
    stale = session.scalars(
        locked(
            select(Ticket)
            .where(Ticket.status.in_(OPEN_STATUSES), Ticket.business_date <= last_day)
            .order_by(Ticket.id)
        )
    ).all()
    now = clock.now()
    for ticket in stale:
        previous = ticket.status
        ticket.status = TicketStatus.EXPIRED
        ticket.closed_at = now
        record(session, ticket, "expired", now, counter_id=ticket.counter_id, was=previous)
    close_counters_left_open(session, clock, last_day)
    finalize_days(session, clock)  # store the report figures of days that can no longer change
    return len(stale)


def close_counters_left_open(session: Session, clock: Clock, last_day: date) -> int:
    """Close the counters whose duty began on or before ``last_day``; returns how many.

    A clerk who went home without closing would otherwise keep the counter from the next
    day's clerk (counter_in_use).  A counter opened after that day is left alone, and so is
    one still holding a ticket of a later day.
    """
    _start, day_end = clock.day_bounds(last_day)
    left_open = session.scalars(
        select(Counter)
        .where(Counter.state != CounterState.CLOSED, Counter.active.is_(True))
        .order_by(Counter.id)
    ).all()
    closed = 0
    for counter in left_open:
        duty = current_session(session, counter.id)
        since = duty.opened_at if duty is not None else counter.state_since
        if (since is not None and since >= day_end) or active_ticket(session, counter.id) is not None:
            continue
        close_counter(session, clock, counter.id, counter.staff_id, force=True)
        closed += 1
    return closed
