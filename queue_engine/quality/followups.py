"""What a shift hands to the next: open complaints and follow-ups of a counter's visits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.errors import InvalidTransition, NotFound
from queue_engine.core.kinds import Outcome
from queue_engine.core.models import Complaint, Visit


def open_follow_ups(session: Session, counter_id: int) -> Sequence[Visit]:
    """Visits of a counter closed as 'follow-up' and not yet followed up."""
    return session.scalars(
        select(Visit)
        .where(
            Visit.counter_id == counter_id,
            Visit.outcome == Outcome.FOLLOW_UP,
            Visit.follow_up_done_at.is_(None),
        )
        .order_by(Visit.finished_at)
    ).all()


def open_complaints(session: Session, counter_id: int) -> Sequence[Complaint]:
    """Complaints raised at a counter that are not closed yet."""
    return session.scalars(
        select(Complaint)
        .join(Visit, Complaint.visit_id == Visit.id)
        .where(Visit.counter_id == counter_id, Complaint.status != "closed")
        .order_by(Complaint.due_date, Complaint.id)
    ).all()


def mark_follow_up_done(session: Session, clock: Clock, visit_id: int) -> datetime:
    """Record that a follow-up visit has been followed up."""
    visit = session.get(Visit, visit_id, with_for_update=True)
    if visit is None:
        raise NotFound(f"No visit has the id {visit_id}.")
    if visit.outcome != Outcome.FOLLOW_UP or visit.follow_up_done_at is not None:
        raise InvalidTransition("This visit has no open follow-up.")
    visit.follow_up_done_at = clock.now()
    return visit.follow_up_done_at
