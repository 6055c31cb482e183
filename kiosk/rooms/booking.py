"""Booking online (预约, DESIGN §10): /book (service → day → slot → name and phone), and the
visitor's booking page /b/<token> (view, cancel, check in). No login; personal data never shown
beyond the masked phone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import format_date, gettext
from sqlalchemy import select

from kiosk.actions import action
from kiosk.context import clock, languages
from kiosk.extensions import db_session
from kiosk.i18n import current_language
from kiosk.limits import ticket_limit
from kiosk.qr import qr_svg
from kiosk.rooms.kiosk import _show_ticket as show_ticket
from kiosk.rooms.kiosk import public_url
from queue_engine import book, cancel_booking, check_in
from queue_engine.booking import (
    BookingSettings,
    BookingState,
    booking_by_token,
    day_slots,
    find_booking,
    reschedule,
)
from queue_engine.booking.bookings import CODE_ALPHABET, checkin_window, scanned_booking
from queue_engine.booking.slots import bookable_days, booking_settings
from queue_engine.booking.views import booking_payload, slot_payload
from queue_engine.core.errors import InvalidFields, QueueError
from queue_engine.core.lookups import service_by_code
from queue_engine.core.models import Service, Ticket
from queue_engine.hall.calendar import hall_settings
from queue_engine.notify.visitors import leave_booking_email

bp = Blueprint("booking", __name__)


@bp.before_request
def _language() -> None:
    asked = request.values.get("lang")
    if asked in languages():
        g.lang = asked


def refusal(error: QueueError) -> str:
    """A booking refusal as the visitor reads it, in the page's language."""
    return str(_refusal(error))


def _refusal(error: QueueError) -> Any:  # noqa: PLR0911 - one sentence per refusal
    details = error.details
    if error.code == "slot_full":
        return gettext("This time is fully booked. Please choose another time.")
    if error.code == "already_booked":
        return gettext("This phone number already has a booking for this service on that day.")
    if error.code == "booking_blocked":
        until = details.get("until")
        when = format_date(until, "long") if isinstance(until, date) else ""
        return gettext(
            "This number missed several bookings recently; it can book again from %(day)s.", day=when
        )
    if error.code == "booking_closed":
        return gettext("This time can no longer be booked. Please choose another time.")
    if error.code == "too_early":
        at = details.get("at")
        return gettext("Check-in opens at %(time)s.", time=f"{at:%H:%M}" if isinstance(at, datetime) else "")
    if error.code == "too_late":
        at = details.get("at")
        return gettext(
            "Check-in closed at %(time)s; the booking is missed. Please take a number at the kiosk.",
            time=f"{at:%H:%M}" if isinstance(at, datetime) else "",
        )
    if error.code == "unknown_booking":
        return gettext("No booking has this code. Please check the code on your confirmation.")
    if isinstance(error, InvalidFields):
        if error.field == "phone":
            return gettext("Please enter a mobile number: 11 digits, or + and the country code.")
        if error.field == "email":
            return gettext("Please enter an e-mail address like name@example.com, or leave it empty.")
        return gettext("Please enter the name the booking is for (at most 64 characters).")
    if error.code == "invalid_transition":
        return gettext("This booking can no longer be changed.")
    return gettext("This could not be done. Please ask at the desk.")


def _bookable_services() -> list[Service]:
    session = db_session()
    return list(
        session.scalars(
            select(Service)
            .join(BookingSettings, BookingSettings.service_id == Service.id)
            .where(BookingSettings.bookable.is_(True), Service.active.is_(True))
            .order_by(Service.sort_order, Service.code)
        )
    )


@bp.get("/book")
def services() -> Any:
    """Which service to book."""
    lang = current_language()
    offered = [{"code": s.code, "name": s.name(lang)} for s in _bookable_services()]
    return render_template("booking/services.html", services=offered)


def _day_asked(settings: BookingSettings) -> date:
    days = bookable_days(settings, clock())
    try:
        asked = date.fromisoformat(request.values.get("date", ""))
    except ValueError:
        return days[0]
    return asked if asked in days else days[0]


def _slots_page(
    service: Service, message: str | None = None, status: int = 200, moving: str | None = None, **typed: str
) -> Any:
    session = db_session()
    try:
        settings = booking_settings(session, service)
    except QueueError:
        abort(404)
    day = _day_asked(settings)
    days = [(d, format_date(d, "EEE M/d")) for d in bookable_days(settings, clock())]
    now = clock().now()
    slots = [
        {**slot_payload(s), "label": f"{clock().local(s.starts_at):%H:%M}", "value": s.starts_at.isoformat()}
        for s in day_slots(session, clock(), service, day)
        if s.ends_at > now  # the day's slots already over are not worth a line
    ]
    return (
        render_template(
            "booking/slots.html",
            service=service,
            service_name=service.name(current_language()),
            day=day,
            days=days,
            slots=slots,
            message=message,
            typed=typed,
            minutes=settings.slot_minutes,
            moving=moving,
        ),
        status,
    )


@bp.get("/book/<code>")
def slots(code: str) -> Any:
    """A service's days and slots, with the form for name and phone."""
    try:
        service = service_by_code(db_session(), code)
    except QueueError:
        abort(404)
    return _slots_page(service)


@bp.post("/book/<code>")
@ticket_limit
def take(code: str) -> Any:
    """Book the chosen slot; the confirmation page, or the form again saying what was wrong."""
    session = db_session()
    try:
        service = service_by_code(session, code)
    except QueueError:
        abort(404)
    typed = {
        "name": request.form.get("name", ""),
        "phone": request.form.get("phone", ""),
        "email": request.form.get("email", "")[:200],
    }
    try:
        start = datetime.fromisoformat(request.form.get("start", ""))
    except ValueError:
        return _slots_page(service, gettext("Please choose a time."), 422, **typed)
    with action() as done:
        booking = book(
            session, clock(), code, start, name=typed["name"], phone=typed["phone"], lang=current_language()
        )
        leave_booking_email(session, clock().now(), booking, typed["email"])
    if done.error is not None:
        return _slots_page(service, refusal(done.error), 409, **typed)
    return redirect(url_for("booking.page", token=booking.token, lang=current_language()), 303)


def _booking_page(token: str, message: str | None = None, status: int = 200) -> Any:
    session = db_session()
    try:
        booking = booking_by_token(session, token)
    except QueueError:
        return render_template("booking/unknown.html"), 404
    if "lang" not in g:
        g.lang = booking.lang if booking.lang in languages() else languages()[0]
    settings = session.get(BookingSettings, booking.service_id) or BookingSettings(
        service_id=booking.service_id
    )
    opens, closes = checkin_window(settings or BookingSettings(service_id=booking.service_id), booking)
    local = clock().local
    return (
        render_template(
            "booking/page.html",
            booking=booking_payload(session, clock(), booking),
            service_name=booking.service.name(current_language()),
            day=format_date(local(booking.slot_start).date(), "full"),
            start=f"{local(booking.slot_start):%H:%M}",
            end=f"{local(booking.slot_end):%H:%M}",
            check_in_from=f"{local(opens):%H:%M}",
            check_in_until=f"{local(closes):%H:%M}",
            can_check_in=booking.state == BookingState.BOOKED and opens <= clock().now() <= closes,
            qr=qr_svg(public_url("booking.page", token=token)),
            message=message,
        ),
        status,
    )


@bp.get("/b/<token>")
def page(token: str) -> Any:
    """The visitor's booking: code and QR for the kiosk, the time, check in, move, cancel.

    Once checked in, the booking's page is the ticket's live page.
    """
    try:
        booking = booking_by_token(db_session(), token)
    except QueueError:
        return render_template("booking/unknown.html"), 404
    if booking.state == BookingState.CHECKED_IN and booking.ticket is not None:
        return redirect(url_for("ticket.page", token=booking.ticket.token), 303)
    return _booking_page(token)


@bp.post("/b/<token>/cancel")
def cancel(token: str) -> Any:
    """The visitor cancels the booking."""
    with action() as done:
        cancel_booking(db_session(), clock(), booking_by_token(db_session(), token, lock=True))
    if done.error is not None:
        return _booking_page(token, refusal(done.error), 409)
    return redirect(url_for("booking.page", token=token), 303)


@bp.post("/b/<token>/check-in")
def arrive(token: str) -> Any:
    """The visitor checks in from the phone inside the window: on to the ticket's page."""
    with action() as done:
        ticket = check_in(db_session(), clock(), booking_by_token(db_session(), token, lock=True))
    if done.error is not None:
        earlier = done.error.details.get("ticket")
        if isinstance(earlier, Ticket):  # checked in already: the ticket it got
            return redirect(url_for("ticket.page", token=earlier.token), 303)
        return _booking_page(token, refusal(done.error), 409)
    return redirect(url_for("ticket.page", token=ticket.token), 303)


@bp.app_template_global()
def takes_bookings() -> bool:
    """Whether any open service takes bookings (the kiosk then offers "I have a booking")."""
    return bool(_bookable_services())


def _kiosk_checkin_screen(message: str | None = None, status: int = 200, typed: str = "") -> Any:
    return (
        render_template("booking/_kiosk_checkin.html", alphabet=CODE_ALPHABET, message=message, typed=typed),
        status,
    )


@bp.get("/kiosk/check-in")
def kiosk_check_in_screen() -> Any:
    """The kiosk's "I have a booking" screen (swapped into the kiosk like its other screens)."""
    return _kiosk_checkin_screen()


@bp.post("/kiosk/check-in")
@ticket_limit
def kiosk_check_in() -> Any:
    """Check a booking in at the kiosk by its code, typed or scanned (its QR holds the page's URL)."""
    typed = request.form.get("code", "")[:200]
    session = db_session()
    with action() as done:
        found = scanned_booking(session, typed)
        ticket = check_in(session, clock(), found)
    if done.error is not None:
        earlier = done.error.details.get("ticket")
        if not isinstance(earlier, Ticket):
            return _kiosk_checkin_screen(refusal(done.error), 409, typed)
        ticket = earlier  # checked in already: print its ticket again
    return show_ticket(ticket)


@bp.get("/b/<token>/calendar.ics")
def calendar(token: str) -> Any:
    """The booking as a calendar entry (.ics), to add to the phone's calendar."""
    session = db_session()
    try:
        booking = booking_by_token(session, token)
    except QueueError:
        return render_template("booking/unknown.html"), 404
    lang = booking.lang if booking.lang in languages() else languages()[0]
    hall = hall_settings(session)
    text = ics_event(
        uid=f"{booking.token}@qms",
        start=booking.slot_start,
        end=booking.slot_end,
        summary=f"{booking.service.name(lang)} · {booking.code}",
        location=hall.name.get(lang) or next(iter(hall.name.values()), ""),
        url=public_url("booking.page", token=token),
    )
    answer = Response(text, mimetype="text/calendar")
    answer.headers["Content-Disposition"] = f'attachment; filename="booking-{booking.code}.ics"'
    return answer


def ics_event(*, uid: str, start: datetime, end: datetime, summary: str, location: str, url: str) -> str:
    """One VEVENT in an iCalendar file (RFC 5545: CRLF lines, text escaped, UTC times)."""

    def text(value: str) -> str:
        return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")

    stamp = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hall queue//Booking//ZH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{clock().now():{stamp}}",
        f"DTSTART:{start:{stamp}}",
        f"DTEND:{end:{stamp}}",
        f"SUMMARY:{text(summary)}",
        f"LOCATION:{text(location)}",
        f"URL:{url}",
        f"DESCRIPTION:{text(url)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


@bp.get("/book/find")
def find_form() -> Any:
    """Find a booking again with the phone number and the code."""
    return render_template("booking/find.html", message=None, typed={})


@bp.post("/book/find")
@ticket_limit
def find() -> Any:
    """The booking's page, or the form again saying that nothing matched."""
    typed = {"phone": request.form.get("phone", "")[:32], "code": request.form.get("code", "")[:16]}
    try:
        booking = find_booking(db_session(), typed["phone"], typed["code"])
    except QueueError:
        message = gettext("No booking has this code and phone number. Please check both.")
        return render_template("booking/find.html", message=message, typed=typed), 404
    return redirect(url_for("booking.page", token=booking.token), 303)


@bp.get("/b/<token>/move")
def move_form(token: str) -> Any:
    """Choose another time for a booking not yet checked in."""
    try:
        booking = booking_by_token(db_session(), token)
    except QueueError:
        return render_template("booking/unknown.html"), 404
    if "lang" not in g:
        g.lang = booking.lang if booking.lang in languages() else languages()[0]
    return _slots_page(booking.service, moving=token)


@bp.post("/b/<token>/move")
def move(token: str) -> Any:
    """Move the booking to the chosen time: its page again, or the times saying what was wrong."""
    session = db_session()
    try:
        booking = booking_by_token(session, token, lock=True)
        start = datetime.fromisoformat(request.form.get("start", ""))
    except (QueueError, ValueError):
        return redirect(url_for("booking.move_form", token=token), 303)
    with action() as done:
        reschedule(session, clock(), booking, start)
    if done.error is not None:
        return _slots_page(booking.service, refusal(done.error), 409, moving=token)
    return redirect(url_for("booking.page", token=token), 303)
