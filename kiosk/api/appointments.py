"""Bookings over the API (DESIGN §7, §10): slots, book, the holder's booking, check-in, staff lists."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from kiosk.actions import commit, writes_on_get
from kiosk.api import bp
from kiosk.api.models import NoFields, Ticket
from kiosk.api.models.appointments import (
    Appointment,
    AppointmentsQuery,
    BookAppointment,
    CheckInByCode,
    Slot,
    SlotsQuery,
)
from kiosk.api.operations import api_route
from kiosk.auth import MANAGER_ROLES, STAFF_ROLES, staff
from kiosk.context import clock, languages, request_language
from kiosk.errors import ApiError
from kiosk.extensions import db_session
from kiosk.limits import registered_device, ticket_limit
from queue_engine import book, cancel_booking, check_in
from queue_engine.booking import booking_by_code, booking_by_token, day_slots
from queue_engine.booking.bookings import bookings_of_day
from queue_engine.booking.views import booking_payload, slot_payload
from queue_engine.core.lookups import service_by_code
from queue_engine.hall.audit import audit
from queue_engine.queue.snapshots import issued_ticket_view

BOOK_ERRORS = {
    403: "booking_blocked: the number missed too many bookings lately",
    404: "unknown_service",
    409: "slot_full, already_booked",
    422: "booking_closed (not bookable, past the cut-off, too far ahead, no such slot); invalid_input",
    429: "rate_limited: too many requests from this address (QMS_TICKET_RATE_LIMIT)",
}
CHECK_IN_ERRORS = {
    404: "unknown_booking",
    409: "too_early, too_late, already_checked_in, invalid_transition (cancelled or missed), service_closed",
}


@bp.get("/services/<code>/slots")
@api_route(
    query=SlotsQuery, answers={200: list[Slot]}, errors={404: "unknown_service", 422: "booking_closed"}
)
def slots(code: str, query: SlotsQuery) -> Any:
    """A service's slots of a day: capacity, places booked and free, whether each can be booked now."""
    service = service_by_code(db_session(), code)
    return jsonify([slot_payload(s) for s in day_slots(db_session(), clock(), service, query.day)])


@bp.post("/appointments")
@ticket_limit
@api_route(body=BookAppointment, answers={201: Appointment}, errors=BOOK_ERRORS)
def book_appointment(body: BookAppointment) -> Any:
    """Book a place in a slot (rate-limited per client address like tickets)."""
    if body.lang is not None and body.lang not in languages():
        raise ApiError(422, "invalid_input", f"The field 'lang' must be one of: {', '.join(languages())}.")
    booking = book(
        db_session(),
        clock(),
        body.service,
        body.start,
        name=body.name,
        phone=body.phone,
        lang=body.lang or request_language(),
    )
    commit()
    return jsonify(booking_payload(db_session(), clock(), booking)), 201


@bp.get("/appointments/<token>")
@api_route(answers={200: Appointment}, errors={404: "unknown_booking"})
def appointment(token: str) -> Any:
    """A booking as its holder sees it (the phone masked)."""
    return jsonify(booking_payload(db_session(), clock(), booking_by_token(db_session(), token)))


@bp.post("/appointments/<token>/cancel")
@api_route(
    body=NoFields, answers={200: Appointment}, errors={404: "unknown_booking", 409: "invalid_transition"}
)
def cancel_appointment(token: str, body: NoFields) -> Any:
    """The holder cancels a booking not yet checked in; its place is freed."""
    booking = cancel_booking(db_session(), clock(), booking_by_token(db_session(), token, lock=True))
    commit()
    return jsonify(booking_payload(db_session(), clock(), booking))


@bp.post("/appointments/<token>/check-in")
@api_route(body=NoFields, answers={201: Ticket}, errors=CHECK_IN_ERRORS)
def check_in_by_token(token: str, body: NoFields) -> Any:
    """The holder checks in from the phone, inside the check-in window: the ticket (source appointment)."""
    ticket = check_in(db_session(), clock(), booking_by_token(db_session(), token, lock=True))
    commit()
    return jsonify(issued_ticket_view(db_session(), clock(), ticket)), 201


@bp.post("/appointments/check-in")
@api_route(
    body=CheckInByCode,
    answers={201: Ticket},
    errors={**CHECK_IN_ERRORS, 401: "unauthorized: neither a registered kiosk nor staff"},
)
def check_in_by_code(body: CheckInByCode) -> Any:
    """A registered kiosk or staff checks a booking in by its code, typed or scanned."""
    if registered_device() is None and not current_user.is_authenticated:
        raise ApiError(401, "unauthorized", "Only a registered kiosk or staff can check in by code.")
    ticket = check_in(db_session(), clock(), booking_by_code(db_session(), body.code, lock=True))
    commit()
    return jsonify(issued_ticket_view(db_session(), clock(), ticket)), 201


@bp.get("/appointments")
@writes_on_get  # the read of names and phones is audited
@api_route(
    query=AppointmentsQuery,
    roles=STAFF_ROLES,
    answers={200: list[Appointment]},
    errors={404: "unknown_service"},
)
def appointments(query: AppointmentsQuery) -> Any:
    """A day's bookings in slot order; names and phones only for supervisors and admins (audited)."""
    session = db_session()
    service_id = service_by_code(session, query.service).id if query.service else None
    day = query.day or clock().today()
    found = bookings_of_day(session, day, service_id)
    reveal = staff().role in MANAGER_ROLES
    if reveal and found:
        audit(session, clock(), staff().id, "read_bookings", f"{day.isoformat()} {query.service or '*'}")
        commit()
    return jsonify([booking_payload(session, clock(), b, reveal=reveal) for b in found])
