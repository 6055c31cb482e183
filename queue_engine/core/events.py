"""The event log, and the list of changes the web layer publishes after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from queue_engine.core.models import Ticket, TicketEvent

PENDING_KEY = "qms.pending_changes"


def record(
    session: Session,
    ticket: Ticket,
    type_: str,
    at: datetime,
    *,
    counter_id: int | None = None,
    staff_id: int | None = None,
    **data: Any,
) -> TicketEvent:
    """Append one row to the ticket's event log and note the change for publication."""
    entry = TicketEvent(
        ticket_id=ticket.id,
        type=type_,
        at=at,
        counter_id=counter_id,
        staff_id=staff_id,
        data=data,
    )
    session.add(entry)
    note_change(
        session,
        type_,
        ticket_id=ticket.id,
        service_id=ticket.service_id,
        counter_id=counter_id,
        **{k: v for k, v in data.items() if isinstance(v, int | str | None)},
    )
    return entry


def note_change(session: Session, type_: str, **values: Any) -> None:
    """Remember a change (primitive values only) to publish once the transaction commits."""
    session.info.setdefault(PENDING_KEY, []).append({"type": type_, **values})


def take_changes(session: Session) -> list[dict[str, Any]]:
    """Hand over, and forget, the changes noted since the last hand-over."""
    changes: list[dict[str, Any]] = session.info.pop(PENDING_KEY, [])
    return changes


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    # A change that did not commit must never reach a screen.
    session.info.pop(PENDING_KEY, None)
