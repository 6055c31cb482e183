"""The audit log: who changed settings, who looked at visitors' personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.models import AuditEntry


def audit(
    session: Session,
    when: Clock | datetime,
    user_id: int | None,
    action: str,
    target: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit row (in the caller's transaction), at the clock's now or at a time the
    caller holds; ``user_id`` None: the command line."""
    at = when.now() if isinstance(when, Clock) else when
    entry = AuditEntry(
        at=at, user_id=user_id, action=action[:48], target=target[:128], before=before, after=after
    )
    session.add(entry)
    return entry
