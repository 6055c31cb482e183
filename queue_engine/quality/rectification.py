"""Rectification of bad ratings (差评整改): every 不满意 or 非常不满意 opens a case that runs
open -> assigned -> rectified -> followed up -> closed, due 15 working days after the rating."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.errors import InvalidInput, InvalidTransition, NotFound
from queue_engine.core.models import RectificationCase, User, Visit
from queue_engine.hall.audit import audit
from queue_engine.hall.calendar import add_working_days, hall_settings

BAD_RATINGS = (1, 2)
WORKING_DAYS_TO_RECTIFY = 15
CASE_FLOW: dict[str, tuple[str, ...]] = {
    "open": ("assigned",),
    "assigned": ("assigned", "rectified"),  # a case may be handed to someone else
    "rectified": ("followed_up",),
    "followed_up": ("closed",),
    "closed": (),
}
TEXT_LIMIT = 4000


def open_case_if_bad(session: Session, clock: Clock, visit: Visit) -> RectificationCase | None:
    """Open a case for a bad rating (called by rate_visit inside its transaction)."""
    if visit.rating not in BAD_RATINGS:
        return None
    rated_on = clock.business_date(visit.rated_at or clock.now())
    case = RectificationCase(
        visit_id=visit.id,
        status="open",
        opened_at=clock.now(),
        due_date=add_working_days(hall_settings(session), rated_on, WORKING_DAYS_TO_RECTIFY),
        updated_at=clock.now(),
    )
    session.add(case)
    return case


def case_by_id(session: Session, case_id: int) -> RectificationCase:
    """A case by id (row-locked on PostgreSQL), or NotFound."""
    case = session.get(RectificationCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"No rectification case has the id {case_id}.")
    return case


def _text(value: str | None, name: str, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{name} is required for this step.")
    if len(text) > TEXT_LIMIT:
        raise InvalidInput(f"{name} is at most {TEXT_LIMIT} characters.")
    return text


def _move(case: RectificationCase, target: str) -> None:
    if target not in CASE_FLOW.get(case.status, ()):
        raise InvalidTransition(f"A case cannot go from {case.status} to {target}.")
    case.status = target


def _audited(
    session: Session,
    clock: Clock,
    actor_id: int | None,
    action: str,
    case: RectificationCase,
    before: dict[str, Any],
) -> RectificationCase:
    audit(
        session, clock, actor_id, action, f"rectification:{case.id}", before=before, after=case_fields(case)
    )
    return case


def assign_case(
    session: Session, clock: Clock, case_id: int, assignee_id: int, *, actor_id: int | None = None
) -> RectificationCase:
    """A supervisor names the person responsible (audited)."""
    case = case_by_id(session, case_id)
    before = case_fields(case)
    assignee = session.get(User, assignee_id)
    if assignee is None or not assignee.active:
        raise InvalidInput("Choose an active member of staff as the responsible person.")
    _move(case, "assigned")
    case.assignee_id = assignee.id
    case.updated_at = clock.now()
    return _audited(session, clock, actor_id, "assign_rectification", case, before)


def record_rectification(
    session: Session,
    clock: Clock,
    case_id: int,
    finding: str | None,
    measures: str | None,
    *,
    actor_id: int | None = None,
) -> RectificationCase:
    """What was found and what was done about it (audited)."""
    case = case_by_id(session, case_id)
    before = case_fields(case)
    finding_text = _text(finding, "finding", required=True)
    measures_text = _text(measures, "measures", required=True)
    _move(case, "rectified")
    case.finding, case.measures = finding_text, measures_text
    case.rectified_at = clock.now()
    case.updated_at = clock.now()
    return _audited(session, clock, actor_id, "rectify", case, before)


def record_follow_up_call(
    session: Session,
    clock: Clock,
    case_id: int,
    *,
    reached: bool,
    view: str | None = None,
    re_rating: int | None = None,
    actor_id: int | None = None,
) -> RectificationCase:
    """The follow-up call (回访): reached or not, the visitor's view, a re-rating (audited)."""
    case = case_by_id(session, case_id)
    before = case_fields(case)
    if re_rating is not None and (isinstance(re_rating, bool) or re_rating not in range(1, 6)):
        raise InvalidInput("The re-rating is a whole number from 1 to 5.")
    if not reached and re_rating is not None:
        raise InvalidInput("A visitor who was not reached cannot re-rate.")
    view_text = _text(view, "the visitor's view", required=reached)
    _move(case, "followed_up")
    case.follow_up_reached = reached
    case.follow_up_view = view_text
    case.re_rating = re_rating
    case.followed_up_at = clock.now()
    case.updated_at = clock.now()
    return _audited(session, clock, actor_id, "follow_up_call", case, before)


def close_case(
    session: Session, clock: Clock, case_id: int, *, actor_id: int | None = None
) -> RectificationCase:
    """Close a followed-up case (audited)."""
    case = case_by_id(session, case_id)
    before = case_fields(case)
    _move(case, "closed")
    case.closed_at = clock.now()
    case.updated_at = clock.now()
    return _audited(session, clock, actor_id, "close_rectification", case, before)


def is_overdue(case: RectificationCase, today: date) -> bool:
    """Past due and not yet rectified."""
    return case.status in ("open", "assigned") and case.due_date < today


def rectified_on_time(case: RectificationCase, clock: Clock) -> bool:
    """Rectified on or before its due date (in the hall's calendar)."""
    return case.rectified_at is not None and clock.business_date(case.rectified_at) <= case.due_date


def case_fields(case: RectificationCase) -> dict[str, Any]:
    """A case as plain values (audit log, API)."""
    return {
        "id": case.id,
        "status": case.status,
        "due_date": case.due_date.isoformat(),
        "assignee_id": case.assignee_id,
        "finding": case.finding,
        "measures": case.measures,
        "follow_up_reached": case.follow_up_reached,
        "follow_up_view": case.follow_up_view,
        "re_rating": case.re_rating,
    }


def open_cases_overview(session: Session, today: date, limit: int = 20) -> dict[str, Any]:
    """Cases not yet closed (overdue first) for the supervisor's live page."""
    cases = session.scalars(
        select(RectificationCase)
        .where(RectificationCase.status != "closed")
        .order_by(RectificationCase.due_date, RectificationCase.id)
    ).all()
    rows = [
        {
            "id": c.id,
            "number": c.visit.ticket.number,
            "counter_id": c.visit.counter_id,
            "rating": c.visit.rating,
            "status": c.status,
            "due_date": c.due_date.isoformat(),
            "overdue": is_overdue(c, today),
        }
        for c in cases
    ]
    rows.sort(key=lambda r: (not r["overdue"], r["due_date"], r["id"]))
    return {"open": len(rows), "overdue": sum(r["overdue"] for r in rows), "cases": rows[:limit]}
