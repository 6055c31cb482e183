"""The take-a-number kiosk: a touch screen at the entrance."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from babel.dates import format_skeleton
from flask import Blueprint, current_app, g, make_response, render_template, request, url_for
from flask_babel import format_datetime, get_locale, gettext, ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kiosk.actions import action
from kiosk.context import clock, languages
from kiosk.extensions import db, db_session
from kiosk.i18n import current_language
from kiosk.limits import DEVICE_COOKIE, DEVICE_COOKIE_DAYS, registered_device, ticket_limit
from kiosk.printing import PrinterError, Slip, print_slip
from kiosk.qr import qr_svg
from queue_engine import issue_ticket
from queue_engine.core.errors import HallClosed, QueueError, ServiceClosed, ServiceNotServed
from queue_engine.core.kinds import PriorityPolicy, Source
from queue_engine.core.lookups import ticket_by_token
from queue_engine.core.models import Hall, KioskDevice, Ticket
from queue_engine.hall.calendar import hall_settings, is_open, next_opening
from queue_engine.queue.payloads import TicketView
from queue_engine.queue.snapshots import issued_ticket_view, service_list

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

REPRINT_SECONDS = 60


@bp.before_request
def _kiosk_language() -> None:
    # A kiosk speaks the hall's first language until a visitor switches; the choice travels
    # with each request of the screen (hx-vals), never in a cookie the next visitor inherits.
    asked = request.values.get("lang")
    g.lang = asked if asked in languages() else languages()[0]


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute URL visitors' phones can open (QMS_PUBLIC_URL behind a proxy)."""
    base = current_app.config.get("QMS_PUBLIC_URL")
    path = url_for(endpoint, **values)
    return base.rstrip("/") + path if base else url_for(endpoint, _external=True, **values)


def reopens_line(hall: Hall) -> str:
    """The line "13:30 恢复取号 · Tickets again from 13:30" for a closed hall ("" if never)."""
    local = clock().local()
    opens = next_opening(hall, local)
    if opens is None:
        return ""
    at = opens.strftime("%H:%M")
    if opens.date() == local.date():
        return str(gettext("Tickets again from %(time)s", time=at))
    day = format_skeleton("MMMEd", opens, locale=get_locale() or "zh_Hans_CN")
    return str(gettext("Tickets again on %(day)s from %(time)s", day=day, time=at))


def _screen_context() -> dict[str, Any]:
    lang = current_language()
    hall = hall_settings(db_session())
    hall_open = is_open(hall, clock().local())
    return {
        "services": service_list(db_session(), clock(), lang, active_only=False),
        "hall_open": hall_open,
        "reopens": "" if hall_open else reopens_line(hall),
        "offers_priority": hall.priority_policy != PriorityPolicy.STRICT,
        "hall_name": hall.name.get(lang) or next(iter(hall.name.values()), ""),
        "ticket_seconds": hall.kiosk_ticket_seconds,
        "request_key": secrets.token_urlsafe(16),
    }


@bp.get("")
def index() -> Any:
    """The full kiosk screen."""
    paper = request.args.get("paper", "80")
    device = registered_device()  # a registered kiosk reports its heartbeat by its name
    return render_template(
        "kiosk/index.html",
        paper=paper if paper in ("58", "80") else "80",
        device_name=device.name if device else None,
        **_screen_context(),
    )


@bp.get("/services")
def services() -> Any:
    """The service buttons alone (refreshed when the queue or the services change)."""
    return render_template("kiosk/_services.html", **_screen_context())


def _message(text: str, status: int) -> Any:
    return render_template("kiosk/_message.html", message=text), status


def _slip(ticket: Ticket, view: TicketView, url: str) -> Slip:
    lang = current_language()
    hall = hall_settings(db_session())
    return Slip(
        hall=hall.name.get(lang) or "",
        number=ticket.number,
        service=ticket.service.name(lang),
        ahead_line=ngettext("%(num)d person ahead of you", "%(num)d people ahead of you", view["ahead"] or 0),
        issued_line=format_datetime(clock().local(ticket.issued_at), "yyyy-MM-dd HH:mm"),
        url=url,
        footer=gettext("Scan to follow your place in the queue"),
    )


def _show_ticket(ticket: Ticket, *, reprint: bool = False) -> Any:
    view = issued_ticket_view(db_session(), clock(), ticket)
    url = public_url("ticket.page", token=ticket.token)
    printer = current_app.config.get("QMS_PRINTER")
    printed_by_server = printer_failed = False
    if printer:
        try:
            print_slip(printer, _slip(ticket, view, url))
            printed_by_server = True
        except PrinterError as error:
            current_app.logger.warning("Ticket %s not printed: %s", ticket.number, error)
            printer_failed = True
    return render_template(
        "kiosk/_ticket.html",
        ticket=view,
        service_name=ticket.service.name(current_language()),
        issued_local=clock().local(ticket.issued_at),
        qr=qr_svg(url),
        url=url,
        printed_by_server=printed_by_server,
        printer_failed=printer_failed,
        browser_print=not printer,
        reprint=reprint,
        reprint_seconds=REPRINT_SECONDS,
        ticket_seconds=hall_settings(db_session()).kiosk_ticket_seconds,
        hall_name=_screen_context()["hall_name"],
        offers_priority=hall_settings(db_session()).priority_policy != PriorityPolicy.STRICT,
    )


@bp.post("/tickets")
@ticket_limit
def take() -> Any:
    """A touch on a service: issue its next ticket (once per screen, however often touched)."""
    code = request.form.get("service", "")[:16]
    key = request.form.get("key", "")[:64] or None
    priority = request.form.get("priority") == "1"  # 老年人 / 残疾人 / 孕妇, chosen on the screen
    device = registered_device()
    try:
        with action() as done:
            ticket = issue_ticket(
                db_session(),
                clock(),
                code,
                lang=current_language(),
                source=Source.KIOSK if device else Source.WEB,
                priority=priority,
                request_key=key,
            )
    except IntegrityError:
        # Two touches of one screen raced on PostgreSQL: the loser shows the winner's ticket.
        ticket = db.session.scalars(select(Ticket).where(Ticket.request_key == key)).one()
    else:
        if isinstance(done.error, HallClosed):
            return _message(gettext("The hall is closed now. Tickets are issued during opening hours."), 409)
        if isinstance(done.error, ServiceNotServed):
            return _message(gettext("No counter serves this service now. Please ask at the desk."), 409)
        if isinstance(done.error, ServiceClosed):
            return _message(gettext("This service is not taking numbers now. Please ask at the desk."), 409)
        if done.error:
            return _message(gettext("This service is not available. Please ask at the desk."), 404)
    return _show_ticket(ticket)


@bp.post("/tickets/<token>/reprint")
def reprint(token: str) -> Any:
    """Print the last ticket again, for a minute after it was taken."""
    try:
        ticket = ticket_by_token(db_session(), token)
    except QueueError:
        return _message(gettext("This ticket can no longer be printed."), 404)
    if clock().now() - ticket.issued_at > timedelta(seconds=REPRINT_SECONDS):
        return _message(gettext("This ticket can no longer be printed."), 409)
    return _show_ticket(ticket, reprint=True)


@bp.get("/register/<token>")
def register_device(token: str) -> Any:
    """Open once on a kiosk an admin registered: sets the device cookie (exempt from the limit)."""
    from kiosk.auth import token_digest

    device = db.session.scalars(
        select(KioskDevice).where(KioskDevice.token_hash == token_digest(token))
    ).first()
    g.lang = current_language()
    if device is None or not device.active:
        return render_template(
            "error.html",
            status=404,
            code="unknown_device",
            message=gettext("This kiosk registration link is not valid."),
        ), 404
    response = make_response(render_template("kiosk/registered.html", device=device))
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response
