"""The audit log: who changed settings, who looked at visitors' personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.models import AuditEntry


def audit(
    session: Session,
    clock: Clock,
    user_id: int | None,
    action: str,
    target: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit row (in the caller's transaction)."""
    return audit_at(session, clock.now(), user_id, action, target, before=before, after=after)


def audit_at(
    session: Session,
    at: datetime,
    user_id: int | None,
    action: str,
    target: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit row at ``at`` (for callers that hold a time, not a clock); None: the CLI."""
    entry = AuditEntry(
        at=at, user_id=user_id, action=action[:48], target=target[:128], before=before, after=after
    )
    session.add(entry)
    return entry
