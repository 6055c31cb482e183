"""Administration (/admin, admins only): services, counters and the hall settings.

Staff accounts and kiosk devices (``admin_access``), the audit log and the configuration
file (``admin_config``) are nested blueprints under this one, so the one access check here
guards every admin page.  Each change is one engine operation (``queue_engine.hall.admin``), which
validates, changes, writes the audit row and notes a settings change; ``kiosk.actions`` commits
and then tells every screen, so kiosks, boards and counters pick it up without a restart.
"""

from __future__ import annotations

import re
from itertools import permutations
from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from kiosk import runtime as hall_runtime
from kiosk.actions import action, commit
from kiosk.context import clock
from kiosk.extensions import db, db_session
from kiosk.htmx import is_htmx
from kiosk.i18n import LANGUAGE_NAMES
from kiosk.rooms.admin import access as admin_access
from kiosk.rooms.admin import bookings as admin_bookings
from kiosk.rooms.admin import config as admin_config
from kiosk.rooms.admin.forms import (
    CATEGORY_LABELS,
    POLICY_LABELS,
    SAVED,
    WEEKDAY_LABELS,
    FormState,
    admins_only,
    answer,
    checked,
    merged,
    refused,
)
from kiosk.rooms.admin.forms import actor_id as _actor
from queue_engine.core.models import AuditEntry, Counter, KioskDevice, Service, User
from queue_engine.hall.admin import (
    counter_by_id_any,
    counter_record,
    hall_record,
    remove_counter,
    remove_service,
    save_counter,
    save_hall,
    save_service,
    service_by_id,
    service_record,
)
from queue_engine.hall.calendar import hall_settings, is_open
from queue_engine.hall.rules import KNOWN_LANGUAGES, WEEKDAYS, SettingsInvalid, format_hours, parse_hours_text
from queue_engine.queue.day import closing_time, last_closable_day

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(admins_only)
bp.register_blueprint(admin_access.bp)
bp.register_blueprint(admin_config.bp)
bp.register_blueprint(admin_bookings.bp)


@bp.after_request
def _vary(response: Response) -> Response:
    # Settings pages are never kept by a cache (Vary: HX-Request is sent for every answer).
    response.headers["Cache-Control"] = "no-store"
    return response


# -- overview -------------------------------------------------------------------------------


@bp.get("")
def index() -> Any:
    """What the hall is set up with, and the latest changes."""
    session = db_session()
    hall = hall_settings(session)
    count = {
        model.__name__: session.scalar(select(func.count()).select_from(model).where(model.active.is_(True)))
        for model in (Service, Counter, User, KioskDevice)
    }
    recent = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(8)).all()
    users = {u.id: u.username for u in session.scalars(select(User))}
    local = clock().local()
    return render_template(
        "admin/index.html",
        hall=hall,
        count=count,
        recent=recent,
        users=users,
        open_now=is_open(hall, local),
        closes=closing_time(hall, local.date()),
        last_closable=last_closable_day(hall, clock()),
        today=local.date(),
        effective=_effective_locale(),
    )


def _effective_locale() -> dict[str, Any]:
    state = hall_runtime.runtime(current_app)
    return {
        "timezone": current_app.config["QMS_TIMEZONE"],
        "languages": list(current_app.config["QMS_LANGUAGES"]),
        "default_timezone": state.default_timezone,
        "default_languages": state.default_languages,
    }


# -- services -------------------------------------------------------------------------------


def _service_state(service: Service, message: str | None = None) -> FormState:
    return FormState(values=service_record(service), id=service.id, message=message)


def _blank_service() -> FormState:
    last = db.session.scalar(select(func.max(Service.sort_order))) or 0
    values = {
        "code": "",
        "prefix": "",
        "start_number": 1,
        "names": {"zh": "", "en": ""},
        "category": "other",
        "target_wait_min": 15,
        "active": True,
        "sort_order": last + 1,
    }
    return FormState(values=values)


def _service_form() -> dict[str, Any]:
    form = request.form
    return {
        "code": form.get("code", "")[:64],
        "prefix": form.get("prefix", "")[:64],
        "start_number": form.get("start_number", ""),
        "names": {lang: form.get(f"name_{lang}", "")[:200] for lang in KNOWN_LANGUAGES},
        "category": form.get("category", ""),
        "target_wait_min": form.get("target_wait_min", ""),
        "active": checked(form, "active"),
        "sort_order": form.get("sort_order", ""),
    }


def _services_page(
    replacement: FormState | None = None, new: FormState | None = None, booking: FormState | None = None
) -> str:
    services = db.session.scalars(select(Service).order_by(Service.sort_order, Service.code))
    return render_template(
        "admin/services.html",
        forms=merged([_service_state(s) for s in services], replacement),
        new=new or _blank_service(),
        bookings=merged(admin_bookings.booking_states(), booking),
        weekdays=WEEKDAY_LABELS,
        categories=CATEGORY_LABELS,
        languages=KNOWN_LANGUAGES,
    )


services_page = _services_page  # the booking forms' whole page (kiosk.rooms.admin.bookings)


def _service_context() -> dict[str, Any]:
    return {"categories": CATEGORY_LABELS, "languages": KNOWN_LANGUAGES}


@bp.get("/services")
def services() -> Any:
    """Every service, each an editable row, and a form for a new one."""
    return _services_page()


@bp.post("/services")
def create_service() -> Any:
    """Add a service."""
    state = FormState(values=_service_form())
    with action(SettingsInvalid) as done:
        service = save_service(db_session(), clock(), _actor(), state.values)
    if error := done.error:
        refused(state, error)
        return answer("admin/_service_new.html", state, lambda s: _services_page(new=s), **_service_context())
    message = f"Service {service.code} created. · 已新增业务 {service.code}。"
    if not is_htmx():
        flash(message)
        return redirect(url_for(".services"))
    blank = _blank_service()
    blank.message = message
    created = _service_state(service)
    return render_template("admin/_service_new.html", form=blank, created=created, **_service_context())


@bp.post("/services/<int:service_id>")
def update_service(service_id: int) -> Any:
    """Change a service: renamed, closed or reopened, reordered ... (live on kiosks and boards)."""
    state = FormState(values=_service_form(), id=service_id)
    with action(SettingsInvalid) as done:
        service = save_service(db_session(), clock(), _actor(), state.values, service_id)
    if error := done.error:
        refused(state, error)
        return answer(
            "admin/_service.html", state, lambda s: _services_page(replacement=s), **_service_context()
        )
    if not is_htmx():
        flash(SAVED)
        return redirect(url_for(".services"))
    return render_template("admin/_service.html", form=_service_state(service, SAVED), **_service_context())


@bp.post("/services/<int:service_id>/remove")
def delete_service(service_id: int) -> Any:
    """Delete a service never used; one with tickets is closed (deactivated) instead."""
    service = db.session.get(Service, service_id)
    code = service.code if service is not None else "?"
    outcome = remove_service(db_session(), clock(), _actor(), service_id)
    commit()
    if outcome == "deleted":
        message = f"Service {code} deleted. · 已删除业务 {code}。"
        if not is_htmx():
            flash(message)
            return redirect(url_for(".services"))
        return render_template("admin/_flash.html", message=message)
    message = (
        f"Service {code} has tickets, so it was closed (deactivated), not deleted. · "
        f"业务 {code} 已有取号记录，已停用而未删除。"
    )
    if not is_htmx():
        flash(message)
        return redirect(url_for(".services"))
    kept = service_by_id(db_session(), service_id)
    return render_template("admin/_service.html", form=_service_state(kept, message), **_service_context())


# -- counters -------------------------------------------------------------------------------


def _counter_state(counter: Counter, message: str | None = None) -> FormState:
    state = FormState(values=counter_record(counter), id=counter.id, message=message)
    state.extra = _counter_extra(counter)
    return state


def _counter_extra(counter: Counter | None) -> dict[str, Any]:
    if counter is None:
        return {}
    on_duty = (counter.staff.display_name or counter.staff.username) if counter.staff else ""
    return {"state": str(counter.state), "on_duty": on_duty}


def _counter_form() -> dict[str, Any]:
    form = request.form
    return {
        "name": form.get("name", "")[:200],
        "services": form.getlist("services"),
        "active": checked(form, "active"),
    }


def _counter_context() -> dict[str, Any]:
    services = db.session.scalars(select(Service).order_by(Service.sort_order, Service.code)).all()
    return {"all_services": services}


def _counters_page(replacement: FormState | None = None, new: FormState | None = None) -> str:
    counters = db.session.scalars(select(Counter).order_by(Counter.id))
    return render_template(
        "admin/counters.html",
        forms=merged([_counter_state(c) for c in counters], replacement),
        new=new or FormState(values={"name": "", "services": [], "active": True}),
        **_counter_context(),
    )


@bp.get("/counters")
def counters() -> Any:
    """Every counter: its name on the board, the services it serves, active."""
    return _counters_page()


@bp.post("/counters")
def create_counter() -> Any:
    """Add a counter."""
    state = FormState(values=_counter_form())
    with action(SettingsInvalid) as done:
        counter = save_counter(db_session(), clock(), _actor(), state.values)
    if error := done.error:
        refused(state, error)
        return answer("admin/_counter_new.html", state, lambda s: _counters_page(new=s), **_counter_context())
    message = f"Counter {counter.name} created. · 已新增窗口 {counter.name}。"
    if not is_htmx():
        flash(message)
        return redirect(url_for(".counters"))
    blank = FormState(values={"name": "", "services": [], "active": True}, message=message)
    return render_template(
        "admin/_counter_new.html", form=blank, created=_counter_state(counter), **_counter_context()
    )


@bp.post("/counters/<int:counter_id>")
def update_counter(counter_id: int) -> Any:
    """Change a counter's name, services or active flag."""
    state = FormState(values=_counter_form(), id=counter_id)
    state.extra = _counter_extra(db.session.get(Counter, counter_id))
    with action(SettingsInvalid) as done:
        counter = save_counter(db_session(), clock(), _actor(), state.values, counter_id)
    if error := done.error:
        refused(state, error)
        return answer(
            "admin/_counter.html", state, lambda s: _counters_page(replacement=s), **_counter_context()
        )
    if not is_htmx():
        flash(SAVED)
        return redirect(url_for(".counters"))
    return render_template("admin/_counter.html", form=_counter_state(counter, SAVED), **_counter_context())


@bp.post("/counters/<int:counter_id>/remove")
def delete_counter(counter_id: int) -> Any:
    """Delete a counter never used; one with history is deactivated instead."""
    counter = db.session.get(Counter, counter_id)
    name = counter.name if counter else "?"
    with action(SettingsInvalid) as done:
        outcome = remove_counter(db_session(), clock(), _actor(), counter_id)
    if error := done.error:
        state = _counter_state(counter_by_id_any(db_session(), counter_id))
        refused(state, error)
        return answer(
            "admin/_counter.html", state, lambda s: _counters_page(replacement=s), **_counter_context()
        )
    if outcome == "deleted":
        message = f"Counter {name} deleted. · 已删除窗口 {name}。"
    else:
        message = (
            f"Counter {name} has history, so it was deactivated, not deleted. · "
            f"窗口 {name} 已有记录，已停用而未删除。"
        )
    if not is_htmx():
        flash(message)
        return redirect(url_for(".counters"))
    if outcome == "deleted":
        return render_template("admin/_flash.html", message=message)
    state = _counter_state(counter_by_id_any(db_session(), counter_id), message)
    return render_template("admin/_counter.html", form=state, **_counter_context())


# -- hall -----------------------------------------------------------------------------------


def language_choices() -> list[tuple[str, str]]:
    """Every ordered choice of the known languages (first = default), e.g. 'zh,en' -> 中文 + English."""
    choices = []
    for size in range(len(KNOWN_LANGUAGES), 0, -1):
        for combo in permutations(KNOWN_LANGUAGES, size):
            label = " + ".join(LANGUAGE_NAMES.get(code, code) for code in combo)
            choices.append((",".join(combo), label))
    return choices


def _hall_state(message: str | None = None) -> FormState:
    values = hall_record(hall_settings(db_session()))
    values["always_open"] = not values["opening_hours"]
    values["hours_text"] = {day: format_hours(values["opening_hours"].get(day, [])) for day in WEEKDAYS}
    values["closed_dates_text"] = "\n".join(values["closed_dates"])
    values["extra_working_dates_text"] = "\n".join(values["extra_working_dates"])
    values["languages_text"] = ",".join(values["languages"] or [])
    return FormState(values=values, id=1, message=message)


def _date_list(text: str) -> list[str]:
    """Dates typed one a line (or separated by commas, semicolons, spaces)."""
    return [d for d in re.split(r"[\s,;，；]+", text) if d]


def _hall_form() -> dict[str, Any]:
    form = request.form
    always_open = checked(form, "always_open")
    hours_text = {day: form.get(f"hours_{day}", "")[:200] for day in WEEKDAYS}
    languages_text = form.get("languages", "").strip()
    closed_text = form.get("closed_dates", "")[:8000]
    extra_text = form.get("extra_working_dates", "")[:8000]
    return {
        "name": {lang: form.get(f"name_{lang}", "")[:200] for lang in KNOWN_LANGUAGES},
        "timezone": form.get("timezone", "").strip()[:64] or None,
        "languages": languages_text.split(",") if languages_text else None,
        "opening_hours": {}
        if always_open
        else {day: parse_hours_text(text) for day, text in hours_text.items()},
        "closed_dates": _date_list(closed_text),
        "extra_working_dates": _date_list(extra_text),
        "priority_policy": form.get("priority_policy", ""),
        "priority_every_n": form.get("priority_every_n", ""),
        "kiosk_ticket_seconds": form.get("kiosk_ticket_seconds", ""),
        "day_close_delay_min": form.get("day_close_delay_min", ""),
        # as typed, for the form to show again
        "always_open": always_open,
        "hours_text": hours_text,
        "closed_dates_text": closed_text,
        "extra_working_dates_text": extra_text,
        "languages_text": languages_text,
    }


def _hall_context() -> dict[str, Any]:
    return {
        "policies": POLICY_LABELS,
        "weekdays": list(zip(WEEKDAYS, WEEKDAY_LABELS, strict=True)),
        "language_choices": language_choices(),
        "timezones": sorted(available_timezones()),
        "effective": _effective_locale(),
        "languages": KNOWN_LANGUAGES,
    }


def _hall_page(state: FormState | None = None) -> str:
    return render_template("admin/hall.html", form=state or _hall_state(), **_hall_context())


@bp.get("/hall")
def hall() -> Any:
    """The hall settings: names, timezone, languages, opening hours, priority policy, kiosk."""
    return _hall_page()


@bp.post("/hall")
def update_hall() -> Any:
    """Save the hall settings; timezone and languages apply at once."""
    state = FormState(values=_hall_form(), id=1)
    with action(SettingsInvalid) as done:
        saved = save_hall(db_session(), clock(), _actor(), state.values)
        timezone, languages = saved.timezone, saved.languages
    if error := done.error:
        refused(state, error)
        return answer("admin/_hall.html", state, _hall_page, **_hall_context())
    hall_runtime.apply(current_app, timezone, languages)
    if not is_htmx():
        flash(SAVED)
        return redirect(url_for(".hall"))
    return render_template("admin/_hall.html", form=_hall_state(SAVED), **_hall_context())
