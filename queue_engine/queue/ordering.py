"""The order in which waiting tickets are called, under the hall's priority policy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from queue_engine.core.models import PriorityPolicy, Ticket, TicketEvent, TicketStatus


def waiting_query(service_ids: Sequence[int], day: date) -> Select[Ticket]:
    """Today's waiting tickets of some services, earliest first."""
    return select(Ticket).where(
        Ticket.status == TicketStatus.WAITING,
        Ticket.business_date == day,
        Ticket.service_id.in_(service_ids),
    )


def fcfs_order(priority_first: bool) -> list[Any]:
    """ORDER BY terms: (priority first when asked), then issue time, then id."""
    terms: list[Any] = [Ticket.issued_at, Ticket.id]
    return [Ticket.priority.desc(), *terms] if priority_first else terms


def priority_turn(session: Session, service_ids: Sequence[int], day: date, every_n: int) -> bool:
    """Under EVERY_N: whether the last N calls among these services held no priority ticket."""
    recent = session.scalars(
        select(Ticket.priority)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(
            TicketEvent.type == "called",
            Ticket.business_date == day,
            Ticket.service_id.in_(service_ids),
        )
        .order_by(TicketEvent.id.desc())
        .limit(every_n)
    ).all()
    return len(recent) >= every_n and not any(recent)


def call_order(
    session: Session, policy: str, every_n: int, service_ids: Sequence[int], day: date
) -> list[Any]:
    """The ORDER BY that picks the next ticket for a counter serving these services."""
    if policy == PriorityPolicy.PRIORITY_FIRST:
        return fcfs_order(priority_first=True)
    if policy == PriorityPolicy.EVERY_N and priority_turn(session, service_ids, day, every_n):
        return fcfs_order(priority_first=True)
    return fcfs_order(priority_first=False)


def tickets_ahead(session: Session, ticket: Ticket, policy: str) -> int:
    """How many waiting tickets of the ticket's service will be called before it."""
    earlier = (Ticket.issued_at < ticket.issued_at) | (
        (Ticket.issued_at == ticket.issued_at) & (Ticket.id < ticket.id)
    )
    condition: Any = earlier
    if policy == PriorityPolicy.PRIORITY_FIRST:
        prioritised = Ticket.priority.is_(True)
        condition = and_(prioritised, earlier) if ticket.priority else or_(prioritised, earlier)
    stmt = (
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.status == TicketStatus.WAITING,
            Ticket.business_date == ticket.business_date,
            Ticket.service_id == ticket.service_id,
            Ticket.id != ticket.id,
            condition,
        )
    )
    return int(session.execute(stmt).scalar_one())
