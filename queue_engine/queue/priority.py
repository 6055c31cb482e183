"""Marking a visitor as a priority visitor (老年人 / 残疾人 / 孕妇): staff's one way to do it.

The call order under the hall's policy (``ordering.call_sequence``) then places the ticket; the
counter's "Next" list, call-next and every visitor's position read that one order.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.errors import InvalidTransition, NotAtThisCounter
from queue_engine.core.events import record
from queue_engine.core.kinds import TicketStatus
from queue_engine.core.lookups import counter_by_id, ticket_by_token
from queue_engine.core.models import Ticket

MARKABLE = (TicketStatus.WAITING, TicketStatus.CALLED)


def mark_priority(
    session: Session, clock: Clock, token: str, *, staff_id: int | None = None, counter_id: int | None = None
) -> Ticket:
    """Mark a waiting or called ticket as priority (idempotent), audited as a ticket event.

    With ``counter_id`` (the counter workspace) the ticket must be one this counter deals with:
    called here, or waiting in one of its services.
    """
    ticket = ticket_by_token(session, token, lock=True)
    if ticket.status not in MARKABLE:
        raise InvalidTransition(
            f"Ticket {ticket.number} is {ticket.status}; "
            "only a waiting or called ticket can be marked as priority."
        )
    if counter_id is not None:
        counter = counter_by_id(session, counter_id)
        if ticket.status == TicketStatus.CALLED and ticket.counter_id != counter.id:
            raise NotAtThisCounter(f"Ticket {ticket.number} is not held by this counter.")
        if ticket.status == TicketStatus.WAITING and ticket.service_id not in {
            s.id for s in counter.services
        }:
            raise NotAtThisCounter(f"Ticket {ticket.number} waits for a service this counter does not serve.")
    if ticket.priority:
        return ticket
    ticket.priority = True
    record(
        session,
        ticket,
        "priority_marked",
        clock.now(),
        counter_id=counter_id if counter_id is not None else ticket.counter_id,
        staff_id=staff_id,
    )
    return ticket
