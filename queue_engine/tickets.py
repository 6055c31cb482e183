"""The visitor's side of a ticket's life: issue, cancel, rate; and the end of the day."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .calling import active_ticket
from .clock import Clock
from .counters import close_counter, current_session
from .errors import (
    AlreadyRated,
    HallClosed,
    InvalidInput,
    InvalidTransition,
    RatingClosed,
    ServiceClosed,
)
from .events import record
from .hall import hall_settings, is_open
from .lookups import locked, service_by_code, ticket_by_token
from .models import OPEN_STATUSES, Counter, CounterState, Source, Ticket, TicketStatus
from .numbering import format_number, next_sequence
from .rectification import open_case_if_bad
from .report_cells import finalize_days

RATING_DAYS = 7
MAX_COMMENT = 1000


def issue_ticket(
    session: Session,
    clock: Clock,
    service_code: str,
    *,
    lang: str = "zh",
    source: str = Source.KIOSK,
    priority: bool = False,
    request_key: str | None = None,
) -> Ticket:
    """Give a visitor the next number of a service.

    With a ``request_key``, a repeated request (a double touch, a retried POST) gets the
    ticket the first one got; the unique constraint settles a race between two of them.
    """
    if request_key is not None:
        earlier = session.scalars(select(Ticket).where(Ticket.request_key == request_key)).first()
        if earlier is not None:
            return earlier
    service = service_by_code(session, service_code)
    if not service.active:
        raise ServiceClosed(f"Service {service.code} is not taking tickets now.")
    if source not in set(Source):
        raise InvalidInput(f"Unknown ticket source {source!r}.")
    if not is_open(hall_settings(session), clock.local()):
        raise HallClosed("The hall is closed now; tickets are issued during opening hours.")
    day = clock.today()
    sequence = next_sequence(session, service, day)
    # Read the clock only once the number is ours, so that within a service a higher number
    # always has a later issue time and numbers are called in numeric order.
    issued_at = clock.now()
    ticket = Ticket(
        token=secrets.token_urlsafe(16),
        service_id=service.id,
        issued_service_id=service.id,
        business_date=day,
        sequence=sequence,
        number=format_number(service.prefix, sequence),
        status=TicketStatus.WAITING,
        priority=priority,
        lang=lang,
        source=source,
        issued_at=issued_at,
        call_count=0,
        transfer_count=0,
        request_key=request_key,
    )
    session.add(ticket)
    session.flush()
    record(session, ticket, "issued", issued_at, source=source, priority=priority)
    return ticket


def cancel(session: Session, clock: Clock, token: str) -> Ticket:
    """The visitor gives up a waiting ticket."""
    ticket = ticket_by_token(session, token, lock=True)
    if ticket.status != TicketStatus.WAITING:
        raise InvalidTransition(f"Only a waiting ticket can be cancelled; it is {ticket.status}.")
    now = clock.now()
    ticket.status = TicketStatus.CANCELLED
    ticket.closed_at = now
    record(session, ticket, "cancelled", now)
    return ticket


def _score(value: object, name: str, *, required: bool) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput(f"{name} must be a whole number from 1 to 5.")
    return value


def rate_visit(
    session: Session,
    clock: Clock,
    token: str,
    score: object,
    *,
    comment: str | None = None,
    efficiency: object = None,
    level: object = None,
    attitude: object = None,
    source: str = "phone",
) -> Ticket:
    """The visitor rates a finished visit, once, within RATING_DAYS of it."""
    overall = _score(score, "score", required=True)
    dimensions = {
        "rating_efficiency": _score(efficiency, "efficiency", required=False),
        "rating_level": _score(level, "level", required=False),
        "rating_attitude": _score(attitude, "attitude", required=False),
    }
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise InvalidInput(f"comment must be text of at most {MAX_COMMENT} characters.")
    ticket = ticket_by_token(session, token, lock=True)
    visit = ticket.visit
    if ticket.status != TicketStatus.DONE or visit is None:
        raise InvalidTransition("A visit can be rated once it is finished.")
    if visit.rating is not None:
        raise AlreadyRated("This visit has already been rated.")
    now = clock.now()
    if now - visit.finished_at > timedelta(days=RATING_DAYS):
        raise RatingClosed(f"A visit can be rated for {RATING_DAYS} days after it.")
    visit.rating = overall
    for field, value in dimensions.items():
        setattr(visit, field, value)
    visit.rating_comment = (comment or "").strip() or None
    visit.rated_at = now
    visit.rating_source = source[:16]
    open_case_if_bad(session, clock, visit)
    record(session, ticket, "rated", now, counter_id=visit.counter_id, score=overall, via=source)
    return ticket


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
