"""The event log, and the list of changes the web layer publishes after commit.

A change is a dict of primitive values: ``type`` and, where they apply, ``ticket_id``,
``service_id``, ``counter_id`` and (once committed) ``event_id``, the id of the ticket's
event-log row.  A change of the hall's set-up (services, counters, hall settings, an imported
configuration) is one ``{"type": "settings"}``: screens then refetch what they show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, event, func, inspect, select
from sqlalchemy.orm import Session

from queue_engine.core.models import AuditEntry, Ticket, TicketEvent

PENDING_KEY = "qms.pending_changes"
ENTRIES_KEY = "qms.pending_entries"
SETTINGS = "settings"
# Audit actions that only read (personal data shown, a file exported): no screen changes.
READ_ACTIONS = ("view", "export", "read")


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
        ticket=ticket,
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
    # The row's id is known only once flushed: take_changes fills it in.
    session.info.setdefault(ENTRIES_KEY, []).append((session.info[PENDING_KEY][-1], entry))
    return entry


def note_change(session: Session, type_: str, **values: Any) -> None:
    """Remember a change (primitive values only) to publish once the transaction commits."""
    session.info.setdefault(PENDING_KEY, []).append({"type": type_, **values})


def note_settings_changed(session: Session) -> None:
    """Remember that the hall's set-up changed (once per transaction), for screens to refetch."""
    pending = session.info.setdefault(PENDING_KEY, [])
    if not any(change["type"] == SETTINGS for change in pending):
        pending.append({"type": SETTINGS})


def take_changes(session: Session) -> list[dict[str, Any]]:
    """Hand over, and forget, the changes noted since the last hand-over (call after commit)."""
    changes: list[dict[str, Any]] = session.info.pop(PENDING_KEY, [])
    for change, entry in session.info.pop(ENTRIES_KEY, []):
        identity = inspect(entry).identity
        if identity is not None:
            change["event_id"] = identity[0]
    return changes


def high_water_marks(session: Session | Connection) -> tuple[int, int]:
    """The newest event-log id and the newest audit id: cheap (two index look-ups), to see change."""
    events = session.scalar(select(func.max(TicketEvent.id))) or 0
    audits = session.scalar(select(func.max(AuditEntry.id))) or 0
    return int(events), int(audits)


def changes_since(
    session: Session | Connection,
    event_mark: int,
    audit_mark: int,
    *,
    skip: set[int] | frozenset[int] = frozenset(),
) -> list[dict[str, Any]]:
    """The changes committed after two high-water marks (by any process), as take_changes gives them.

    ``skip`` holds event ids already published (this process's own); an audit row that only
    records a read (personal data viewed, a file exported) changes no screen.
    """
    rows = session.execute(
        select(
            TicketEvent.id, TicketEvent.type, TicketEvent.ticket_id, TicketEvent.counter_id, Ticket.service_id
        )
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.id > event_mark)
        .order_by(TicketEvent.id)
    )
    changes = [
        {
            "type": type_,
            "ticket_id": ticket_id,
            "service_id": service_id,
            "counter_id": counter_id,
            "event_id": id_,
        }
        for id_, type_, ticket_id, counter_id, service_id in rows
        if id_ not in skip
    ]
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.id > audit_mark))
    if any(not action.startswith(READ_ACTIONS) for action in actions):
        changes.append({"type": SETTINGS})
    return changes


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    # A change that did not commit must never reach a screen.
    session.info.pop(PENDING_KEY, None)
    session.info.pop(ENTRIES_KEY, None)
