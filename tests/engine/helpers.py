"""Reading the queue's state straight from its tables, as a hall's database would show it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_engine.core.models import Ticket, TicketEvent


def ticket_row(session: Session, ticket_id: int) -> dict[str, Any]:
    """Every column of one ticket, read from the table (not from the ORM's identity map)."""
    row = session.execute(select(Ticket.__table__).where(Ticket.__table__.c.id == ticket_id)).mappings().one()
    return dict(row)


def event_count(session: Session) -> int:
    """How many rows the event log holds."""
    return int(session.execute(select(func.count()).select_from(TicketEvent)).scalar_one())


def events_of(session: Session, ticket_id: int) -> list[TicketEvent]:
    """A ticket's event log, oldest first."""
    return list(
        session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
    )


def event_types(session: Session, ticket_id: int) -> list[str]:
    """The types of a ticket's events, oldest first."""
    return [e.type for e in events_of(session, ticket_id)]
