"""Admin: each service's booking settings (预约设置 · Bookings) on the services page.

One form per service (an HTMX component like the service rows); the change itself is one
engine operation (``queue_engine.booking.settings.save_booking_settings``).  Beside the places
per slot the form shows, for a weekday the admin picks, the default each hour would get from
the hall's history (``queue_engine.booking.capacity.default_capacity``), so the admin sees what
a figure overrides.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from kiosk.actions import action
from kiosk.context import clock
from kiosk.extensions import db, db_session
from kiosk.htmx import is_htmx
from kiosk.rooms.admin.forms import SAVED, WEEKDAY_LABELS, FormState, actor_id, answer, checked, refused
from queue_engine.booking.capacity import HourCapacity, capacity_for, default_capacity
from queue_engine.booking.models import BookingSettings
from queue_engine.booking.settings import (
    BOOKING_DEFAULTS,
    booking_record,
    clean_booking,
    format_overrides,
    save_booking_settings,
)
from queue_engine.booking.slots import slot_starts
from queue_engine.core.models import Service
from queue_engine.core.numbers import whole_number
from queue_engine.hall.admin import service_by_id
from queue_engine.hall.calendar import hall_settings
from queue_engine.hall.rules import SettingsInvalid

bp = Blueprint("bookings", __name__)

FIELDS = tuple(name for name in BOOKING_DEFAULTS if name != "bookable")


def _stored_values(service: Service) -> dict[str, Any]:
    record = booking_record(db.session.get(BookingSettings, service.id))
    record["capacity"] = "" if record["capacity"] is None else record["capacity"]
    record["capacity_overrides"] = format_overrides(record["capacity_overrides"])
    return record


def _typed_values(source: Any) -> dict[str, Any]:
    values: dict[str, Any] = {field: source.get(field, "")[:2000] for field in FIELDS}
    values["bookable"] = checked(source, "bookable")
    return values


def _weekday(source: Any) -> int:
    text = source.get("weekday", "")
    day = whole_number(text, limit=6)
    return clock().local().weekday() if day is None else day


def _defaults(service: Service, values: dict[str, Any], weekday: int) -> list[dict[str, Any]]:
    """Each hour with slots on the next such weekday: the default from history, and what applies."""
    cleaned, errors = clean_booking(values)
    length = BOOKING_DEFAULTS["slot_minutes"] if "slot_minutes" in errors else cleaned["slot_minutes"]
    draft = BookingSettings(
        service_id=service.id,
        slot_minutes=length,
        capacity=None if "capacity" in errors else cleaned["capacity"],
        capacity_overrides={} if "capacity_overrides" in errors else cleaned["capacity_overrides"],
    )
    today = clock().local().date()
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    hours = sorted(
        {
            clock().local(start).hour
            for start, _ in slot_starts(hall_settings(db_session()), draft, clock(), day)
        }
    )
    if not hours:
        return []
    by_hour: dict[int, HourCapacity] = {
        h.hour: h for h in default_capacity(db_session(), clock(), draft, weekday)
    }
    rows = []
    for hour in hours:
        default = by_hour[hour]
        local = datetime.combine(day, time(hour), clock().tz)
        override = draft.capacity_overrides.get(f"{weekday}:{hour}")
        rows.append(
            {
                "hour": hour,
                "counters": default.counters,
                "max_arrivals": default.max_arrivals_per_h,
                "walk_ins": default.walk_ins_per_h,
                "places": default.places,
                "applies": capacity_for(draft, [by_hour[h] for h in range(24)], local),
                "source": "override"
                if override is not None
                else "figure"
                if draft.capacity is not None
                else "default",
            }
        )
    return rows


def booking_state(
    service: Service,
    values: dict[str, Any] | None = None,
    weekday: int | None = None,
    *,
    defaults: bool = True,
) -> FormState:
    """One service's booking form: the values stored (or as typed) and the defaults of a weekday."""
    values = values if values is not None else _stored_values(service)
    day = clock().local().weekday() if weekday is None else weekday
    state = FormState(values=values, id=service.id)
    state.extra = {
        "service": service,
        "weekday": day,
        # The history is read for bookable services, or when the admin picks a weekday.
        "defaults": _defaults(service, values, day) if defaults else None,
        "booked_prefix": values.get("prefix") or f"Y{service.prefix}",
    }
    return state


def booking_states() -> list[FormState]:
    """Every service's booking form, in the services' order (the services page)."""
    services = db.session.scalars(select(Service).order_by(Service.sort_order, Service.code))
    states = []
    for service in services:
        settings = db.session.get(BookingSettings, service.id)
        states.append(booking_state(service, defaults=bool(settings and settings.bookable)))
    return states


def _context() -> dict[str, Any]:
    return {"weekdays": WEEKDAY_LABELS}


def _whole_page(state: FormState) -> str:
    from kiosk.rooms.admin.setup import services_page  # the services page holds every booking form

    return services_page(booking=state)


@bp.get("/services/<int:service_id>/booking")
def booking_form(service_id: int) -> Any:
    """A service's booking form; with typed values and a weekday, the defaults of that weekday."""
    service = service_by_id(db_session(), service_id)
    typed = _typed_values(request.args) if "slot_minutes" in request.args else None
    state = booking_state(service, typed, _weekday(request.args))
    state.extra["open"] = True
    if not is_htmx():
        return _whole_page(state)
    return render_template("admin/_booking.html", form=state, **_context())


@bp.post("/services/<int:service_id>/booking")
def save_booking(service_id: int) -> Any:
    """Save a service's booking settings (refused field by field, nothing changed)."""
    service = service_by_id(db_session(), service_id)
    typed = _typed_values(request.form)
    weekday = _weekday(request.form)
    with action(SettingsInvalid) as done:
        save_booking_settings(db_session(), clock(), actor_id(), service_id, typed)
    if error := done.error:
        state = refused(booking_state(service, typed, weekday), error)
        state.extra["open"] = True
        return answer("admin/_booking.html", state, _whole_page, **_context())
    if not is_htmx():
        flash(SAVED)
        return redirect(url_for("admin.services") + f"#booking-{service_id}")
    state = booking_state(service, None, weekday)
    state.message, state.extra["open"] = SAVED, True
    return render_template("admin/_booking.html", form=state, **_context())
