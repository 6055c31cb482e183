"""Rectification of bad ratings (差评整改): the case list and each case's steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from kiosk.actions import action
from kiosk.auth import MANAGER_ROLES, STAFF_ROLES, roles_required, staff
from kiosk.context import clock
from kiosk.extensions import db, db_session
from queue_engine.core.kinds import Role
from queue_engine.core.models import Counter, RectificationCase, User
from queue_engine.core.numbers import whole_number
from queue_engine.quality.rectification import (
    CASE_FLOW,
    assign_case,
    close_case,
    is_overdue,
    record_follow_up_call,
    record_rectification,
)

bp = Blueprint("quality", __name__, url_prefix="/quality")


def _names(cases: list[RectificationCase]) -> dict[str, dict[int, str]]:
    """The clerks' display names and the counters' names of these cases' visits, by id."""
    staff_ids = {c.visit.staff_id for c in cases if c.visit.staff_id is not None}
    counter_ids = {c.visit.counter_id for c in cases if c.visit.counter_id is not None}
    clerks = db.session.scalars(select(User).where(User.id.in_(staff_ids)))
    counters = db.session.scalars(select(Counter).where(Counter.id.in_(counter_ids)))
    return {
        "clerk_names": {u.id: u.display_name or u.username for u in clerks},
        "counter_names": {c.id: c.name for c in counters},
    }


def _visible(case: RectificationCase) -> bool:
    return staff().role in MANAGER_ROLES or case.assignee_id == staff().id


@bp.get("")
@roles_required(*STAFF_ROLES)
def cases() -> Any:
    """Every case (supervisors) or the cases assigned to me (clerks), overdue first."""
    query = select(RectificationCase).order_by(RectificationCase.due_date, RectificationCase.id)
    status = request.args.get("status")
    if status in CASE_FLOW:
        query = query.where(RectificationCase.status == status)
    if staff().role not in MANAGER_ROLES:
        query = query.where(RectificationCase.assignee_id == staff().id)
    rows = list(db.session.scalars(query.limit(500)))
    today = clock().today()
    return render_template(
        "quality/cases.html",
        cases=rows,
        overdue={c.id for c in rows if is_overdue(c, today)},
        flow=CASE_FLOW,
        **_names(rows),
    )


@bp.get("/<int:case_id>")
@roles_required(*STAFF_ROLES)
def case(case_id: int) -> Any:
    """One case with the form of its next step."""
    found = db.session.get(RectificationCase, case_id)
    if found is None:
        abort(404)
    if not _visible(found):
        abort(403)
    staff_list = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)).all()
    return render_template(
        "quality/case.html",
        case=found,
        staff_list=staff_list,
        overdue=is_overdue(found, clock().today()),
        manager=staff().role in MANAGER_ROLES,
        **_names([found]),
    )


def _step(case_id: int, run: Callable[[], RectificationCase], managers_only: bool) -> Any:
    """One step of a case by someone allowed to take it (the engine audits it)."""
    found = db.session.get(RectificationCase, case_id)
    if found is None:
        abort(404)
    if not _visible(found) or (managers_only and staff().role == Role.CLERK):
        abort(403)
    with action() as done:
        run()
    flash(done.message or "Saved. / 已保存。")
    return redirect(url_for("quality.case", case_id=case_id))


@bp.post("/<int:case_id>/assign")
@roles_required(*MANAGER_ROLES)
def assign(case_id: int) -> Any:
    """A supervisor names the responsible person."""
    raw = request.form.get("assignee_id", "")
    assignee = whole_number(raw) or 0
    return _step(
        case_id, lambda: assign_case(db_session(), clock(), case_id, assignee, actor_id=staff().id), True
    )


@bp.post("/<int:case_id>/rectify")
@roles_required(*STAFF_ROLES)
def rectify(case_id: int) -> Any:
    """The responsible person records the finding and the measures taken."""
    form = request.form
    return _step(
        case_id,
        lambda: record_rectification(
            db_session(), clock(), case_id, form.get("finding"), form.get("measures"), actor_id=staff().id
        ),
        False,
    )


@bp.post("/<int:case_id>/follow-up")
@roles_required(*STAFF_ROLES)
def follow_up(case_id: int) -> Any:
    """The follow-up call (回访): reached or not, the visitor's view, a re-rating."""
    form = request.form
    raw = form.get("re_rating", "")
    re_rating = int(raw) if raw in ("1", "2", "3", "4", "5") else None
    return _step(
        case_id,
        lambda: record_follow_up_call(
            db_session(),
            clock(),
            case_id,
            reached=form.get("reached") == "yes",
            view=form.get("view"),
            re_rating=re_rating,
            actor_id=staff().id,
        ),
        False,
    )


@bp.post("/<int:case_id>/close")
@roles_required(*MANAGER_ROLES)
def close(case_id: int) -> Any:
    """Close a followed-up case."""
    return _step(case_id, lambda: close_case(db_session(), clock(), case_id, actor_id=staff().id), True)
