"""Administration (/admin, admins only): the overview, services and counters (hall settings: ``hall``).

Staff accounts and kiosk devices (``admin_access``), the audit log and the configuration
file (``admin_config``) are nested blueprints under this one, so the one access check here
guards every admin page.  Each change is one engine operation (``queue_engine.hall.admin``), which
validates, changes, writes the audit row and notes a settings change; ``kiosk.actions`` commits
and then tells every screen, so kiosks, boards and counters pick it up without a restart.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from kiosk.actions import action, commit
from kiosk.context import clock
from kiosk.extensions import db, db_session
from kiosk.htmx import is_htmx
from kiosk.rooms.admin import access as admin_access
from kiosk.rooms.admin import bookings as admin_bookings
from kiosk.rooms.admin import config as admin_config
from kiosk.rooms.admin import webhooks as admin_webhooks
from kiosk.rooms.admin.forms import (
    CATEGORY_LABELS,
    SAVED,
    WEEKDAY_LABELS,
    FormState,
    admins_only,
    answer,
    checked,
    effective_locale,
    merged,
    refused,
)
from kiosk.rooms.admin.forms import actor_id as _actor
from queue_engine.core.models import AuditEntry, Counter, KioskDevice, Service, User
from queue_engine.hall.admin import (
    counter_by_id_any,
    counter_record,
    remove_counter,
    remove_service,
    save_counter,
    save_service,
    service_by_id,
    service_record,
)
from queue_engine.hall.calendar import hall_settings, is_open
from queue_engine.hall.rules import KNOWN_LANGUAGES, SettingsInvalid
from queue_engine.queue.coverage import unserved_services
from queue_engine.queue.day import closing_time, last_closable_day

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(admins_only)
bp.register_blueprint(admin_access.bp)
bp.register_blueprint(admin_config.bp)
bp.register_blueprint(admin_bookings.bp)
bp.register_blueprint(admin_webhooks.bp)


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
        effective=effective_locale(),
    )


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
        unserved=unserved_services(db_session()),
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
