"""The counter workspace: the clerk's whole day, one HTMX action at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kiosk import actions
from kiosk.auth import MANAGER_ROLES, STAFF_ROLES, roles_required, staff
from kiosk.context import clock
from kiosk.extensions import db, db_session
from queue_engine import (
    VisitRecord,
    active_ticket,
    call_next,
    call_ticket,
    close_counter,
    finish_visit,
    mark_no_show,
    mark_priority,
    open_counter,
    pause_counter,
    recall,
    resume_counter,
    start_service,
    transfer,
)
from queue_engine.booking.staff import booked_slots
from queue_engine.core.errors import InvalidFields, NoTicketWaiting, QueueError
from queue_engine.core.kinds import Category, CounterState, Outcome, PriorityPolicy
from queue_engine.core.lookups import counter_by_id
from queue_engine.core.models import Counter, RatingTablet, Service, Ticket
from queue_engine.hall.calendar import hall_settings
from queue_engine.quality.complaints import COMPLAINT_PRIORITIES, DEPARTMENT_LIMIT
from queue_engine.quality.followups import mark_follow_up_done, open_complaints, open_follow_ups
from queue_engine.queue.counters import last_handover, open_for_someone_else
from queue_engine.queue.ordering import call_sequence, waiting_counts
from queue_engine.queue.visit_record import FIELD_LIMITS, RECORD_FIELDS

bp = Blueprint("counter", __name__, url_prefix="/counter")

NEXT_FEW = 8
RECORD_NOT_SAVED = (
    "The record could not be saved (database trouble); nothing was lost from this form: "
    "please try again in a moment. / 办理记录未能保存（数据库故障），表单内容已保留，请稍后重试。"
)


def _counter(counter_id: int) -> Counter:
    try:
        counter = counter_by_id(db_session(), counter_id)
    except QueueError:
        abort(404)
    if not staff().may_use_counter(counter):
        abort(403)
    return counter


def _on_duty_elsewhere(counter: Counter) -> bool:
    return open_for_someone_else(counter, staff().id)


def _queue(counter: Counter) -> dict[str, Any]:
    service_ids = [s.id for s in counter.services]
    # The counts, and only the head of the call order (a hall's 2,000 waiting are not loaded
    # for every refresh of every counter's panel).
    waiting = waiting_counts(db_session(), service_ids, clock().today())
    counts = {s.code: waiting.get(s.id, 0) for s in counter.services}
    head = call_sequence(db_session(), service_ids, clock().today(), first=NEXT_FEW)
    now = clock().now()
    booked = booked_slots(db_session(), [t.id for t in head])
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "next": [
            {
                "number": t.number,
                "token": t.token,
                "service": t.service.code,
                "waited_min": int((now - t.issued_at).total_seconds() // 60),
                "priority": t.priority,
                "transferred_from": (
                    f"{t.transferred_from.code} {t.transferred_from.names.get('zh', '')}".strip()
                    if t.transferred_from
                    else None
                ),
                "booked_for": booked.get(t.id),  # a booked ticket: its slot's start
            }
            for t in head
        ],
    }


def _current(counter: Counter) -> dict[str, Any] | None:
    ticket = active_ticket(db_session(), counter.id)
    if ticket is None:
        return None
    now = clock().now()
    return {
        "ticket": ticket,
        "waited_min": int(((ticket.called_at or now) - ticket.issued_at).total_seconds() // 60),
        "since_min": int((now - (ticket.started_at or ticket.called_at or now)).total_seconds() // 60),
        "complaint_service": ticket.service.category == Category.COMPLAINT,
    }


def _context(counter: Counter, **extra: Any) -> dict[str, Any]:
    services = db.session.scalars(
        select(Service).where(Service.active.is_(True)).order_by(Service.sort_order, Service.code)
    ).all()
    return {
        "counter": counter,
        "current": _current(counter),
        "queue": _queue(counter),
        "services": services,
        "outcomes": list(Outcome),
        "elsewhere": _on_duty_elsewhere(counter),
        "priority_used": hall_settings(db_session()).priority_policy != PriorityPolicy.STRICT,
        **extra,
    }


@bp.get("")
@roles_required(*STAFF_ROLES)
def choose() -> Any:
    """The counters this member of staff may open; straight to the one they are on duty at."""
    user = staff()
    counters = db.session.scalars(select(Counter).where(Counter.active.is_(True)).order_by(Counter.id)).all()
    mine = [c for c in counters if user.may_use_counter(c)]
    for counter in mine:
        if counter.state != CounterState.CLOSED and counter.staff_id == user.id:
            return redirect(url_for("counter.workspace", counter_id=counter.id))
    return render_template("counter/choose.html", counters=mine)


@bp.get("/<int:counter_id>")
@roles_required(*STAFF_ROLES)
def workspace(counter_id: int) -> Any:
    """The workspace of one counter (or its opening screen while closed)."""
    counter = _counter(counter_id)
    return render_template(
        "counter/workspace.html",
        layout=_layout(counter),
        handover=last_handover(db_session(), counter.id),
        follow_ups=open_follow_ups(db_session(), counter.id),
        complaints=open_complaints(db_session(), counter.id),
        today=clock().today(),
        **_context(counter),
    )


@bp.post("/<int:counter_id>/open")
@roles_required(*STAFF_ROLES)
def open_(counter_id: int) -> Any:
    """Go on duty at the counter."""
    counter = _counter(counter_id)
    with actions.action() as done:
        open_counter(db_session(), clock(), counter.id, staff().id)
    if done.error:
        flash(done.message)
    return redirect(url_for("counter.workspace", counter_id=counter_id))


@bp.post("/<int:counter_id>/close")
@roles_required(*STAFF_ROLES)
def close(counter_id: int) -> Any:
    """Go off duty, leaving a handover note (交接班) for the next shift."""
    counter = _counter(counter_id)
    note = request.form.get("handover_note", "")
    with actions.action() as done:
        close_counter(
            db_session(), clock(), counter.id, staff().id, note, force=staff().role in MANAGER_ROLES
        )
    if done.error:
        flash(done.message)
        return redirect(url_for("counter.workspace", counter_id=counter_id))
    flash("Counter closed. / 窗口已关闭。")
    return redirect(url_for("counter.choose"))


@bp.get("/<int:counter_id>/panel")
@roles_required(*STAFF_ROLES)
def panel(counter_id: int) -> Any:
    """The waiting queue of the counter (refreshed on every queue change)."""
    counter = _counter(counter_id)
    return render_template("counter/_queue.html", **_context(counter))


@bp.get("/<int:counter_id>/live")
@roles_required(*STAFF_ROLES)
def live(counter_id: int) -> Any:
    """The workspace as it is now, for a page told that its counter changed elsewhere; 205 when the
    page must reload (the counter was closed, or opened, or taken over, elsewhere)."""
    counter = _counter(counter_id)
    if request.args.get("layout") != _layout(counter):
        return "", 205
    return render_template("counter/_workspace.html", **_context(counter))


def _layout(counter: Counter) -> str:
    return "opening" if counter.state == CounterState.CLOSED or _on_duty_elsewhere(counter) else "workspace"


def _answer(counter: Counter, message: str | None = None, error: str | None = None, status: int = 200) -> Any:
    db.session.expire_all()
    return render_template(
        "counter/_workspace.html", message=message, error=error, oob=True, **_context(counter)
    ), status


def _held(counter: Counter) -> str:
    token = request.form.get("token", "")
    ticket = active_ticket(db_session(), counter.id)
    if ticket is None or ticket.token != token:
        # The screen was stale: act on nothing rather than on a ticket the clerk did not see.
        raise _Stale()
    return token


class _Stale(Exception):
    pass


ACTIONS: dict[str, Callable[..., Any]] = {}


def action(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a workspace action under its URL name."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        ACTIONS[name] = fn
        return fn

    return register


@action("call-next")
def _call_next(counter: Counter) -> str:
    try:
        ticket = call_next(db_session(), clock(), counter.id, staff().id)
    except NoTicketWaiting:
        return "Nobody is waiting. / 当前无人等候。"  # still committed: the counter stays opened
    return f"{ticket.number} called. / 已叫号 {ticket.number}。"


@action("call")
def _call_specific(counter: Counter) -> str:
    ticket = call_ticket(
        db_session(),
        clock(),
        counter.id,
        request.form.get("number", "")[:48],
        request.form.get("reason", ""),
        staff().id,
    )
    return f"{ticket.number} called out of order. / 已特呼 {ticket.number}。"


def _on_held(operation: Callable[..., Ticket], done: str) -> Callable[[Counter], str]:
    def run(counter: Counter) -> str:
        ticket = operation(db_session(), clock(), _held(counter), staff_id=staff().id, counter_id=counter.id)
        return done.format(number=ticket.number)

    return run


ACTIONS["recall"] = _on_held(recall, "{number} called again. / 已重呼 {number}。")
ACTIONS["no-show"] = _on_held(mark_no_show, "{number} marked as no-show. / {number} 已过号。")
ACTIONS["start"] = _on_held(start_service, "Serving {number}. / 正在办理 {number}。")


@action("transfer")
def _transfer(counter: Counter) -> str:
    code = request.form.get("service", "")[:16]
    ticket = transfer(db_session(), clock(), _held(counter), code, staff_id=staff().id, counter_id=counter.id)
    return f"{ticket.number} transferred to {code}. / {ticket.number} 已转至 {code}。"


@action("priority")
def _priority(counter: Counter) -> str:
    token = request.form.get("token", "")[:64]
    ticket = mark_priority(db_session(), clock(), token, staff_id=staff().id, counter_id=counter.id)
    return f"{ticket.number} marked as priority. / {ticket.number} 已设为优先（老年人 / 残疾人 / 孕妇）。"


@action("pause")
def _pause(counter: Counter) -> str:
    pause_counter(db_session(), clock(), counter.id, staff().id)
    return "Counter paused. / 暂停服务。"


@action("resume")
def _resume(counter: Counter) -> str:
    resume_counter(db_session(), clock(), counter.id, staff().id)
    return "Counter open again. / 恢复服务。"


@bp.post("/<int:counter_id>/act/<name>")
@roles_required(*STAFF_ROLES)
def act(counter_id: int, name: str) -> Any:
    """One button of the workspace; the answer is the fresh workspace with a message."""
    counter = _counter(counter_id)
    if name not in ACTIONS:
        abort(404)
    try:
        with actions.action() as done:
            message = ACTIONS[name](counter)
    except _Stale:
        return _answer(
            counter,
            error="The screen was out of date; here is the current state. / 页面已过期，已刷新。",
            status=409,
        )
    if done.error:
        return _answer(counter, error=done.message, status=409 if done.error.kind == "conflict" else 422)
    return _answer(counter, message=message)


def _record_form(counter: Counter, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    current = _current(counter)
    if current is None:
        return _answer(
            counter, error="No visitor at this counter to finish. / 当前没有办理中的号票。", status=409
        )
    return render_template(
        "counter/_record.html",
        counter=counter,
        current=current,
        values=values,
        errors=errors,
        outcomes=list(Outcome),
        limits={**FIELD_LIMITS, "department": DEPARTMENT_LIMIT},
        priorities=COMPLAINT_PRIORITIES,
    ), status


@bp.get("/<int:counter_id>/finish")
@roles_required(*STAFF_ROLES)
def record_form(counter_id: int) -> Any:
    """The visit record form (结束办理)."""
    return _record_form(_counter(counter_id), {"outcome": "resolved"}, {})


@bp.post("/<int:counter_id>/finish")
@roles_required(*STAFF_ROLES)
def finish(counter_id: int) -> Any:
    """Close the visit with its record; nothing typed is lost on a validation error."""
    counter = _counter(counter_id)
    values = {name: request.form.get(name, "") for name in RECORD_FIELDS}
    current = _current(counter)
    if current is None or current["ticket"].token != request.form.get("token"):
        return _answer(
            counter,
            error="The screen was out of date; here is the current state. / 页面已过期，已刷新。",
            status=409,
        )
    try:
        record = VisitRecord.parse(values, complaint_service=current["complaint_service"])
    except InvalidFields as refused:
        return _record_form(counter, values, refused.errors, 422)
    try:
        with actions.action() as done:
            ticket = finish_visit(
                db_session(),
                clock(),
                current["ticket"].token,
                record,
                staff_id=staff().id,
                counter_id=counter.id,
            )
    except SQLAlchemyError:
        # Rolled back and logged without its parameters (the visitor's data); the clerk keeps
        # what was typed and can save it again.
        current_app.logger.exception("Saving a visit record failed")
        return _record_form(counter, values, {"outcome": RECORD_NOT_SAVED}, 503)
    if isinstance(done.error, InvalidFields):  # a rule that depends on the ticket (its service)
        return _record_form(counter, values, done.error.errors, 422)
    if done.error:
        return _record_form(counter, values, {"outcome": done.message}, 409)
    return _answer(counter, message=f"{ticket.number} finished. / {ticket.number} 办结。")


@bp.post("/<int:counter_id>/follow-ups/<int:visit_id>/done")
@roles_required(*STAFF_ROLES)
def follow_up_done(counter_id: int, visit_id: int) -> Any:
    """Mark a follow-up of this counter's visit as done."""
    counter = _counter(counter_id)
    if visit_id not in {v.id for v in open_follow_ups(db_session(), counter.id)}:
        abort(404)
    mark_follow_up_done(db_session(), clock(), visit_id)
    actions.commit()
    return redirect(url_for("counter.workspace", counter_id=counter.id))


@bp.get("/<int:counter_id>/rate")
@roles_required(*STAFF_ROLES)
def rating_screen(counter_id: int) -> Any:
    """Where the rating screen went: a tablet registered by an admin, never a clerk's login
    (a rating screen on the clerk's session lost ratings once it lapsed, and let a clerk rate)."""
    counter = _counter(counter_id)
    tablets = db.session.scalars(
        select(RatingTablet).where(RatingTablet.counter_id == counter.id, RatingTablet.active.is_(True))
    ).all()
    return render_template("counter/rate_moved.html", counter=counter, tablets=tablets)
