"""The counter's side of a ticket's life: call, recall, no-show, start, finish, transfer."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from queue_engine.core.clock import Clock
from queue_engine.core.errors import (
    CounterBusy,
    InvalidInput,
    InvalidTransition,
    NotAtThisCounter,
    NoTicketWaiting,
    ServiceClosed,
)
from queue_engine.core.events import record
from queue_engine.core.kinds import ACTIVE_STATUSES, Category, TicketStatus
from queue_engine.core.lookups import counter_by_id, locked, service_by_code, ticket_by_token
from queue_engine.core.models import Complaint, Counter, Ticket, Visit
from queue_engine.queue.counters import ensure_on_duty
from queue_engine.queue.coverage import refuse_unserved
from queue_engine.queue.ordering import growing_heads
from queue_engine.queue.visit_record import VisitRecord


def active_ticket(session: Session, counter_id: int) -> Ticket | None:
    """The ticket a counter is calling or serving, if any."""
    return session.scalars(
        select(Ticket).where(Ticket.counter_id == counter_id, Ticket.status.in_(ACTIVE_STATUSES))
    ).first()


def _ready_counter(session: Session, clock: Clock, counter_id: int, staff_id: int | None) -> Counter:
    counter = counter_by_id(session, counter_id, lock=True)
    ensure_on_duty(session, clock, counter, staff_id)
    if active_ticket(session, counter.id) is not None:
        raise CounterBusy(f"Counter {counter.name} is still holding a ticket.")
    return counter


def _mark_called(
    session: Session, clock: Clock, ticket: Ticket, counter: Counter, staff_id: int | None, **data: object
) -> Ticket:
    now = clock.now()
    ticket.status = TicketStatus.CALLED
    ticket.called_at = now
    ticket.started_at = None
    ticket.call_count = 1
    ticket.counter_id = counter.id
    ticket.counter = counter  # whoever reads the change after the flush (the outbox) has its name
    ticket.staff_id = staff_id
    record(session, ticket, "called", now, counter_id=counter.id, staff_id=staff_id, **data)
    return ticket


def call_next(session: Session, clock: Clock, counter_id: int, staff_id: int | None = None) -> Ticket:
    """Call the first ticket of the counter's call order (first come, first served; see ordering).

    Opens a closed counter for the calling member of staff.  On PostgreSQL the candidate is
    taken ``FOR UPDATE SKIP LOCKED``, so counters calling at the same instant each get a
    different ticket without waiting on one another.
    """
    counter = _ready_counter(session, clock, counter_id, staff_id)
    service_ids = [s.id for s in counter.services]
    if not service_ids:
        raise NoTicketWaiting(f"Counter {counter.name} serves no service.")
    # Further than the head only when every one of it is being called elsewhere at this instant.
    for candidates in growing_heads(session, service_ids, clock.today()):
        for candidate in candidates:
            # Another counter may hold the candidate's lock at this instant: take the next one.
            ticket = session.scalars(
                locked(
                    select(Ticket).where(Ticket.id == candidate.id, Ticket.status == TicketStatus.WAITING),
                    skip_locked=True,
                )
            ).first()
            if ticket is not None:
                return _mark_called(session, clock, ticket, counter, staff_id)
    raise NoTicketWaiting(f"Nobody is waiting for counter {counter.name}.")


def call_ticket(
    session: Session,
    clock: Clock,
    counter_id: int,
    number_or_token: str,
    reason: str,
    staff_id: int | None = None,
) -> Ticket:
    """Call one waiting ticket out of order; the reason is kept in the event log."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise InvalidInput("Calling out of order needs a reason (at most 500 characters).")
    counter = _ready_counter(session, clock, counter_id, staff_id)
    ticket = _waiting_ticket(session, clock.today(), number_or_token)
    if ticket.service_id not in {s.id for s in counter.services}:
        raise InvalidInput(f"Counter {counter.name} does not serve ticket {ticket.number}.")
    return _mark_called(session, clock, ticket, counter, staff_id, out_of_order=True, reason=reason)


def _waiting_ticket(session: Session, day: date, number_or_token: str) -> Ticket:
    found = session.scalars(
        locked(
            select(Ticket)
            .where(
                (Ticket.token == number_or_token)
                | ((Ticket.number == number_or_token.upper()) & (Ticket.business_date == day))
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        found = ticket_by_token(session, number_or_token)  # raises UnknownTicket
    if found.status != TicketStatus.WAITING:
        raise InvalidTransition(f"Ticket {found.number} is not waiting; it is {found.status}.")
    if found.business_date != day:
        # Found by its token: a ticket left waiting on an earlier day is never called today.
        raise InvalidTransition(f"Ticket {found.number} was taken on {found.business_date}, not today.")
    return found


def _held_ticket(
    session: Session, token: str, allowed: tuple[str, ...], action: str, counter_id: int | None
) -> Ticket:
    ticket = ticket_by_token(session, token, lock=True)
    if ticket.status not in allowed:
        raise InvalidTransition(f"Ticket {ticket.number} is {ticket.status}; cannot {action}.")
    if counter_id is not None and ticket.counter_id != counter_id:
        raise NotAtThisCounter(f"Ticket {ticket.number} is not held by this counter.")
    return ticket


def recall(
    session: Session, clock: Clock, token: str, *, staff_id: int | None = None, counter_id: int | None = None
) -> Ticket:
    """Call a called ticket again (the board announces it once more)."""
    ticket = _held_ticket(session, token, (TicketStatus.CALLED,), "recall", counter_id)
    now = clock.now()
    ticket.call_count += 1
    record(
        session,
        ticket,
        "recalled",
        now,
        counter_id=ticket.counter_id,
        staff_id=staff_id,
        call_count=ticket.call_count,
    )
    return ticket


def mark_no_show(
    session: Session, clock: Clock, token: str, *, staff_id: int | None = None, counter_id: int | None = None
) -> Ticket:
    """The called visitor did not come (过号)."""
    ticket = _held_ticket(session, token, (TicketStatus.CALLED,), "mark a no-show", counter_id)
    now = clock.now()
    ticket.status = TicketStatus.NO_SHOW
    ticket.closed_at = now
    record(session, ticket, "no_show", now, counter_id=ticket.counter_id, staff_id=staff_id)
    return ticket


def start_service(
    session: Session, clock: Clock, token: str, *, staff_id: int | None = None, counter_id: int | None = None
) -> Ticket:
    """The called visitor has arrived at the counter."""
    ticket = _held_ticket(session, token, (TicketStatus.CALLED,), "start", counter_id)
    now = clock.now()
    ticket.status = TicketStatus.SERVING
    ticket.started_at = now
    record(session, ticket, "started", now, counter_id=ticket.counter_id, staff_id=staff_id)
    return ticket


def finish_visit(
    session: Session,
    clock: Clock,
    token: str,
    visit_record: VisitRecord,
    *,
    staff_id: int | None = None,
    counter_id: int | None = None,
) -> Ticket:
    """Close the visit with its record; a complaint service's visit opens a Complaint."""
    visit_record.validate()
    ticket = _held_ticket(session, token, ACTIVE_STATUSES, "finish", counter_id)
    visit_record.validate(complaint_service=ticket.service.category == Category.COMPLAINT)
    now = clock.now()
    implicit_start = ticket.started_at is None
    if implicit_start:
        # Finished without "start": count the visit from the call, not from now.
        ticket.started_at = ticket.called_at
    ticket.status = TicketStatus.DONE
    ticket.finished_at = now
    visit = Visit(
        ticket_id=ticket.id,
        service_id=ticket.service_id,
        counter_id=ticket.counter_id,
        staff_id=ticket.staff_id if staff_id is None else staff_id,
        outcome=visit_record.outcome,
        customer_name=visit_record.customer_name.strip(),
        contact=visit_record.contact.strip(),
        description=visit_record.description.strip(),
        notes=visit_record.notes.strip(),
        finished_at=now,
    )
    session.add(visit)
    session.flush()
    # The ticket knows its visit now, without a query to load the (absent) old one.
    set_committed_value(ticket, "visit", visit)
    if ticket.service.category == Category.COMPLAINT or visit_record.complaint_department:
        session.add(
            Complaint(
                visit_id=visit.id,
                department=(visit_record.complaint_department or "").strip(),
                priority=visit_record.complaint_priority,
                due_date=visit_record.complaint_due,
                created_at=now,
                updated_at=now,
            )
        )
    record(
        session,
        ticket,
        "finished",
        now,
        counter_id=ticket.counter_id,
        staff_id=staff_id,
        outcome=visit_record.outcome,
        implicit_start=implicit_start,
    )
    return ticket


def transfer(
    session: Session,
    clock: Clock,
    token: str,
    service_code: str,
    *,
    staff_id: int | None = None,
    counter_id: int | None = None,
) -> Ticket:
    """Send a called or served visitor to another service's queue.

    Same number; the ticket keeps its place there by its original issue time.
    """
    target = service_by_code(session, service_code)
    ticket = _held_ticket(session, token, ACTIVE_STATUSES, "transfer", counter_id)
    if not target.active:
        raise ServiceClosed(f"Service {target.code} is not taking tickets now.")
    refuse_unserved(session, target)
    if target.id == ticket.service_id:
        raise InvalidInput(f"Ticket {ticket.number} is already in service {target.code}.")
    now = clock.now()
    from_counter = ticket.counter_id
    ticket.transferred_from = ticket.service
    ticket.service = target
    ticket.status = TicketStatus.WAITING
    ticket.counter_id = None
    ticket.staff_id = None
    ticket.called_at = None
    ticket.started_at = None
    ticket.call_count = 0
    ticket.transfer_count += 1
    session.flush()
    record(
        session,
        ticket,
        "transferred",
        now,
        counter_id=from_counter,
        staff_id=staff_id,
        to_service=target.code,
        from_service_id=ticket.transferred_from_id,
    )
    return ticket
