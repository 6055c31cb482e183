"""The visitor's side of a ticket's life: issue and cancel."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.errors import (
    HallClosed,
    InvalidInput,
    InvalidTransition,
    ServiceClosed,
)
from queue_engine.core.events import record
from queue_engine.core.kinds import Source, TicketStatus
from queue_engine.core.lookups import service_by_code, ticket_by_token
from queue_engine.core.models import Service, Ticket
from queue_engine.hall.calendar import hall_settings, is_open
from queue_engine.queue.coverage import refuse_unserved
from queue_engine.queue.estimates import forecast_at_issue, keep_issued_forecast
from queue_engine.queue.numbering import format_number, next_sequence


def client_request_key(client: str, key: str, day: date) -> str:
    """The ``request_key`` of an API client's ``Idempotency-Key``: the same key from the same
    client on the same business day is the same request (the kiosk's rule, for the API)."""
    digest = hashlib.sha256(f"{client}\n{day.isoformat()}\n{key}".encode()).hexdigest()
    return f"api:{digest[:60]}"


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
    refuse_unserved(session, service)
    if source not in set(Source):
        raise InvalidInput(f"Unknown ticket source {source!r}.")
    if not is_open(hall_settings(session), clock.local()):
        raise HallClosed("The hall is closed now; tickets are issued during opening hours.")
    return enqueue(
        session, clock, service, lang=lang, source=source, priority=priority, request_key=request_key
    )


def enqueue(
    session: Session,
    clock: Clock,
    service: Service,
    *,
    lang: str,
    source: str,
    priority: bool = False,
    request_key: str | None = None,
    series: str = "",
    prefix: str | None = None,
    queued_at: datetime | None = None,
) -> Ticket:
    """Number a new waiting ticket of a service and put it in the queue (the checks are the caller's).

    A walk-in queues from its issue time; a booked ticket (``series`` "Y", its own numbers)
    from its slot's start (``queued_at``), so the call order needs no other rule for it.
    """
    day = clock.today()
    sequence = next_sequence(session, service, day, series)
    # Read the clock only once the number is ours, so that within a service a higher number
    # always has a later issue time and numbers are called in numeric order.
    issued_at = clock.now()
    found = forecast_at_issue(session, clock, service.id, priority=priority, queued_at=queued_at or issued_at)
    ticket = Ticket(
        token=secrets.token_urlsafe(16),
        service_id=service.id,
        service=service,
        issued_service_id=service.id,
        business_date=day,
        sequence=sequence,
        series=series,
        number=format_number(service.prefix if prefix is None else prefix, sequence),
        status=TicketStatus.WAITING,
        priority=priority,
        lang=lang,
        source=source,
        issued_at=issued_at,
        queued_at=queued_at or issued_at,
        call_count=0,
        transfer_count=0,
        request_key=request_key,
        estimated_wait_s_at_issue=found.wait_s,
    )
    session.add(ticket)
    session.flush()
    keep_issued_forecast(session, ticket, found)
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
