"""Visit records and complaints: personal data for the clerk who served and for supervisors only.

Every page that shows visitors' personal data writes an audit row naming the records shown.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, select

from kiosk.actions import action, commit, writes_on_get
from kiosk.auth import MANAGER_ROLES, STAFF_ROLES, roles_required, staff
from kiosk.context import clock
from kiosk.extensions import db, db_session
from queue_engine.booking.views import mask_name, mask_phone
from queue_engine.core.dates import DateRange
from queue_engine.core.exports import write_csv
from queue_engine.core.kinds import Role
from queue_engine.core.models import Complaint, Ticket, User, Visit
from queue_engine.hall.audit import audit
from queue_engine.quality.complaints import (
    COMPLAINT_FLOW,
    COMPLAINT_PRIORITIES,
    is_overdue,
    update_complaint,
)

bp = Blueprint("records", __name__)

PAGE_SIZE = 200


@bp.app_template_filter("masked_phone")
def masked_phone(contact: str) -> str:
    """A contact as lists show it (138****5678); the full one only in audited exports."""
    return mask_phone(contact) if contact else ""


@bp.app_template_filter("masked_name")
def masked_name(name: str | None) -> str:
    """A name as lists show it (张**); the full one only in audited reads and exports."""
    return mask_name(name) if name else ""


def _own_or_all(query: Select[Any]) -> Select[Any]:
    """Clerks see the visits they served; supervisors and admins see all."""
    if staff().role == Role.CLERK:
        return query.where(Visit.staff_id == staff().id)
    return query


def _day_range() -> tuple[date, date]:
    # A form's empty date field means "not given".
    first, last = request.args.get("from") or None, request.args.get("to") or None
    period = DateRange.parse(first, last, default=clock().today())
    return period.first, period.last


def _visits(start: date, end: date) -> list[Visit]:
    query = (
        select(Visit)
        .join(Ticket, Visit.ticket_id == Ticket.id)
        .where(Ticket.business_date >= start, Ticket.business_date <= end)
        .order_by(Visit.finished_at.desc())
        .limit(PAGE_SIZE)
    )
    return list(db.session.scalars(_own_or_all(query)))


def _audit_view(action: str, visits: list[Visit]) -> None:
    if visits:
        ids = [v.id for v in visits]
        audit(db_session(), clock(), staff().id, action, f"visits:{len(ids)}", after={"visit_ids": ids})
        commit()


@bp.get("/visits")
@roles_required(*STAFF_ROLES)
@writes_on_get
def visits() -> Any:
    """Visit records of a day or range (clerks: their own), with ratings; audited."""
    start, end = _day_range()
    rows = _visits(start, end)
    _audit_view("view_visits", rows)
    staff_names = {u.id: u.display_name or u.username for u in db.session.scalars(select(User))}
    return render_template("records/visits.html", visits=rows, start=start, end=end, staff_names=staff_names)


@bp.get("/visits.csv")
@roles_required(*MANAGER_ROLES)
@writes_on_get
def visits_csv() -> Any:
    """The same records as CSV, for supervisors; audited as an export."""
    start, end = _day_range()
    rows = _visits(start, end)
    _audit_view("export_visits", rows)
    out = io.StringIO()
    header = [
        "number",
        "service",
        "counter",
        "staff_id",
        "finished_at",
        "outcome",
        "customer_name",
        "contact",
        "description",
        "notes",
        "rating",
        "rating_comment",
    ]
    lines = (
        [
            v.ticket.number,
            v.ticket.service.code,
            v.counter_id,
            v.staff_id,
            v.finished_at.isoformat(),
            v.outcome,
            v.customer_name,
            v.contact,
            v.description,
            v.notes,
            v.rating or "",
            v.rating_comment or "",
        ]
        for v in rows
    )
    write_csv(out, header, lines)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=visits-{start}-{end}.csv"},
    )


def _complaints_query() -> Select[Any]:
    query = select(Complaint).join(Visit, Complaint.visit_id == Visit.id).order_by(Complaint.id.desc())
    status = request.args.get("status")
    if status in COMPLAINT_FLOW:
        query = query.where(Complaint.status == status)
    return _own_or_all(query)


@bp.get("/complaints")
@roles_required(*STAFF_ROLES)
@writes_on_get
def complaints() -> Any:
    """Complaints and their follow-up; clerks see those from their own visits."""
    rows = list(db.session.scalars(_complaints_query().limit(PAGE_SIZE)))
    _audit_view("view_complaints", [c.visit for c in rows])
    today = clock().today()
    return render_template(
        "records/complaints.html",
        complaints=rows,
        overdue={c.id for c in rows if is_overdue(c, today)},
        flow=COMPLAINT_FLOW,
        priorities=COMPLAINT_PRIORITIES,
        editable=staff().role in MANAGER_ROLES,
    )


@bp.post("/complaints/<int:complaint_id>")
@roles_required(*MANAGER_ROLES)
def update(complaint_id: int) -> Any:
    """A supervisor moves a complaint on: status, department, due date, resolution, 回访."""
    form = request.form
    due = None
    if form.get("due_date"):
        try:
            due = date.fromisoformat(form["due_date"])
        except ValueError:
            flash("Use a date like 2026-12-31. / 日期格式如 2026-12-31。")
            return redirect(url_for("records.complaints"))
    with action() as done:
        complaint = update_complaint(
            db_session(),
            clock(),
            complaint_id,
            status=form.get("status") or None,
            department=form.get("department"),
            priority=form.get("priority") or None,
            due_date=due,
            resolution=form.get("resolution"),
            follow_up_result=form.get("follow_up_result"),
            actor_id=staff().id,
        )
    flash(done.message or f"Complaint {complaint.id} saved. / 投诉 {complaint.id} 已保存。")
    return redirect(url_for("records.complaints"))
