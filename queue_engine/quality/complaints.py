"""Complaints raised at visits, followed open -> investigating -> resolved -> closed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.errors import InvalidInput, InvalidTransition, NotFound
from queue_engine.core.models import Complaint
from queue_engine.hall.audit import audit

# Each status and the statuses it may move to. A resolved complaint can be reopened when the
# follow-up call (回访) finds the visitor still unsatisfied.
COMPLAINT_FLOW: dict[str, tuple[str, ...]] = {
    "open": ("investigating", "resolved"),
    "investigating": ("resolved",),
    "resolved": ("closed", "investigating"),
    "closed": (),
}
# A complaint's priorities and its department's length: the visit record checks them too.
DEPARTMENT_LIMIT = 128
COMPLAINT_PRIORITIES = ("low", "normal", "high", "urgent")
TEXT_LIMITS = {"department": DEPARTMENT_LIMIT, "resolution": 4000, "follow_up_result": 4000}


def complaint_by_id(session: Session, complaint_id: int) -> Complaint:
    """The complaint with an id, or NotFound."""
    complaint = session.get(Complaint, complaint_id, with_for_update=True)
    if complaint is None:
        raise NotFound(f"No complaint has the id {complaint_id}.")
    return complaint


def is_overdue(complaint: Complaint, today: date) -> bool:
    """Past its due date and not yet resolved or closed."""
    return (
        complaint.due_date is not None
        and complaint.due_date < today
        and complaint.status in ("open", "investigating")
    )


def update_complaint(
    session: Session,
    clock: Clock,
    complaint_id: int,
    *,
    status: str | None = None,
    department: str | None = None,
    priority: str | None = None,
    due_date: date | None = None,
    resolution: str | None = None,
    follow_up_result: str | None = None,
    actor_id: int | None = None,
) -> Complaint:
    """Change a complaint, audited (before and after) in the caller's transaction."""
    complaint = complaint_by_id(session, complaint_id)
    before = complaint_fields(complaint)
    texts = {"department": department, "resolution": resolution, "follow_up_result": follow_up_result}
    for name, value in texts.items():
        if value is not None and len(value) > TEXT_LIMITS[name]:
            raise InvalidInput(f"{name} is at most {TEXT_LIMITS[name]} characters.")
    if priority is not None and priority not in COMPLAINT_PRIORITIES:
        raise InvalidInput(f"priority must be one of: {', '.join(COMPLAINT_PRIORITIES)}.")
    if status is not None and status != complaint.status:
        if status not in COMPLAINT_FLOW.get(complaint.status, ()):
            raise InvalidTransition(f"A complaint cannot go from {complaint.status} to {status}.")
        if status in ("resolved", "closed") and not (resolution or complaint.resolution).strip():
            raise InvalidInput("Write down the resolution before resolving the complaint.")
        if status == "closed" and not (follow_up_result or complaint.follow_up_result).strip():
            raise InvalidInput("Record the follow-up call (回访) before closing the complaint.")
        complaint.status = status
    for name, value in texts.items():
        if value is not None:
            setattr(complaint, name, value.strip())
    if priority is not None:
        complaint.priority = priority
    if due_date is not None:
        complaint.due_date = due_date
    complaint.updated_at = clock.now()
    audit(
        session,
        clock,
        actor_id,
        "update_complaint",
        f"complaint:{complaint.id}",
        before=before,
        after=complaint_fields(complaint),
    )
    return complaint


def complaint_fields(complaint: Complaint) -> dict[str, Any]:
    """The editable fields of a complaint, as plain values."""
    return {
        "status": complaint.status,
        "department": complaint.department,
        "priority": complaint.priority,
        "due_date": complaint.due_date.isoformat() if complaint.due_date else None,
        "resolution": complaint.resolution,
        "follow_up_result": complaint.follow_up_result,
    }
