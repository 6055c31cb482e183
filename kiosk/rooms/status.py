"""The hall's public status page (/hall): open now, waiting and wait per service, the next free
booking times; for the hall's website to link. No personal data, no login."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, g, render_template, request
from flask_babel import format_datetime

from kiosk.context import clock, languages
from kiosk.extensions import db_session
from kiosk.i18n import current_language
from queue_engine.booking import day_slots
from queue_engine.booking.slots import booking_settings
from queue_engine.core.errors import QueueError
from queue_engine.core.models import Service
from queue_engine.hall.calendar import hall_settings, is_open, next_opening
from queue_engine.queue.snapshots import service_list

bp = Blueprint("status", __name__)
FREE_TIMES = 3


@bp.before_request
def _language() -> None:
    asked = request.args.get("lang")
    if asked in languages():
        g.lang = asked


def next_free_times(service: Service) -> list[str]:
    """The next few times of today and tomorrow a service can still be booked at (hall time)."""
    session, now = db_session(), clock()
    try:
        booking_settings(session, service)
    except QueueError:
        return []
    found: list[str] = []
    for day in (now.today(), now.today() + timedelta(days=1)):
        for slot in day_slots(session, now, service, day):
            if slot.open and slot.left > 0 and len(found) < FREE_TIMES:
                found.append(format_datetime(now.local(slot.starts_at), "EEE HH:mm"))
    return found


@bp.get("/hall")
def hall() -> Any:
    """Open now or when it opens, each service's waiting count and wait, the next free booking times."""
    session, now = db_session(), clock()
    lang = current_language()
    settings = hall_settings(session)
    services = {s.code: s for s in session.query(Service).filter(Service.active.is_(True))}
    rows = [
        {**entry, "free_times": next_free_times(services[entry["code"]]) if entry["code"] in services else []}
        for entry in service_list(session, now, lang)
    ]
    reopens = next_opening(settings, now.local())
    return render_template(
        "status/hall.html",
        hall_name=settings.name.get(lang) or next(iter(settings.name.values()), ""),
        open_now=is_open(settings, now.local()),
        reopens=format_datetime(reopens, "EEE HH:mm") if reopens else None,
        services=rows,
        updated=format_datetime(now.local(), "HH:mm"),
    )
