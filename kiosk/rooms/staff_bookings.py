"""Bookings for staff: the supervisor's day of bookings, and check-in by code from the counter.

The supervisor sees each service's bookings per slot (booked, checked in, punctual, missed,
cancelled) with names and numbers masked; opening one booking's personal data is audited
(DESIGN §13).  Any member of staff may check a visitor in by the booking code, from the counter
or the supervisor page: the same engine ``check_in`` the kiosk and the phone use.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, render_template, request
from markupsafe import escape

from kiosk.actions import action, commit
from kiosk.auth import MANAGER_ROLES, STAFF_ROLES, roles_required, staff
from kiosk.context import clock
from kiosk.extensions import db, db_session
from kiosk.rooms.booking import refusal
from queue_engine import check_in
from queue_engine.booking.bookings import booking_by_code, scanned_booking
from queue_engine.booking.staff import cancel_for_visitor, day_overview, open_personal_data
from queue_engine.booking.views import mask_name, mask_phone
from queue_engine.core.errors import QueueError
from queue_engine.core.models import Service

bp = Blueprint("staff_bookings", __name__)


def _day() -> date:
    text = request.args.get("date", "")
    if not text:
        return clock().today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(422, "date is YYYY-MM-DD.")


@bp.get("/supervisor/bookings")
@roles_required(*MANAGER_ROLES)
def day_bookings() -> Any:
    """The day's bookings per service and slot; names and numbers masked until opened."""
    day = _day()
    code = request.args.get("service", "")
    service = db.session.query(Service).filter_by(code=code).first() if code else None
    services = db.session.query(Service).order_by(Service.sort_order, Service.code).all()
    return render_template(
        "staff_bookings/day.html",
        day=day,
        overview=day_overview(db_session(), day, service.id if service else None),
        services=services,
        chosen=code,
        mask_name=mask_name,
        mask_phone=mask_phone,
    )


@bp.post("/supervisor/bookings/<code>/open")
@roles_required(*MANAGER_ROLES)
def open_booking(code: str) -> Any:
    """One booking's name and phone number in full, for a supervisor (written to the audit log)."""
    try:
        booking = booking_by_code(db_session(), code)
    except QueueError:
        abort(404)
    open_personal_data(db_session(), clock(), staff().id, booking)
    commit()
    return render_template("staff_bookings/_person.html", booking=booking)


@bp.post("/staff/bookings/check-in")
@roles_required(*STAFF_ROLES)
def check_in_by_code() -> Any:
    """Check a visitor in by the booking code (typed, or its QR read by a scanner)."""
    typed = request.form.get("code", "")[:200]
    with action() as done:
        ticket = check_in(db_session(), clock(), scanned_booking(db_session(), typed))
    form = "staff_bookings/_check_in_form.html"
    if done.error is not None:
        return render_template(form, error=refusal(done.error), typed=typed), 422
    body = render_template(form, ticket=ticket)
    return body, 200, {"HX-Trigger": "bookings-changed"}  # the supervisor's counts refresh


@bp.post("/supervisor/bookings/<code>/cancel")
@roles_required(*MANAGER_ROLES)
def cancel(code: str) -> Any:
    """Cancel a booking for the visitor, with the reason (its place is freed for others)."""
    with action() as done:
        booking = booking_by_code(db_session(), code, lock=True)
        cancel_for_visitor(db_session(), clock(), staff().id, booking, request.form.get("reason", "")[:500])
    if done.error is not None:
        message = getattr(done.error, "errors", {}).get("reason") or refusal(done.error)
        return f'<p class="form-message bad" role="alert">未取消 · Not cancelled: {escape(message)}</p>', 422
    body = f'<p class="form-message ok">已取消 · Cancelled: {escape(code)}</p>'
    return body, 200, {"HX-Trigger": "bookings-changed"}
