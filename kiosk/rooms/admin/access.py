"""Admin: who and what may use the system: staff accounts and registered kiosk devices.

A new password, an API token or a kiosk's registration link is shown once, in the answer
that made it, and stored only as a hash.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from kiosk.actions import action, commit
from kiosk.auth import hash_password, token_digest
from kiosk.context import clock
from kiosk.extensions import db, db_session
from kiosk.htmx import is_htmx
from kiosk.limits import new_device_token
from kiosk.rooms.admin.forms import (
    REFUSED,
    ROLE_LABELS,
    SAVED,
    FormState,
    actor_id,
    answer,
    checked,
    ids,
    merged,
    refused,
)
from kiosk.rooms.kiosk import public_url
from queue_engine.core.models import Counter, KioskDevice, RatingTablet, User
from queue_engine.hall.admin import register_kiosk, register_tablet, revoke_kiosk, revoke_tablet
from queue_engine.hall.rules import SettingsInvalid
from queue_engine.hall.staff import (
    create_user,
    password_problem,
    set_api_token,
    set_password,
    update_user,
    user_by_id,
    user_record,
)

bp = Blueprint("access", __name__)


def _new_password() -> str:
    return secrets.token_urlsafe(9)


# -- staff ----------------------------------------------------------------------------------


def _user_state(user: User, message: str | None = None) -> FormState:
    return FormState(
        values=user_record(user), id=user.id, message=message, extra={"self": user.id == actor_id()}
    )


def _blank_user() -> FormState:
    return FormState(
        values={"username": "", "display_name": "", "role": "clerk", "active": True, "counters": []}
    )


def _user_form() -> dict[str, Any]:
    form = request.form
    return {
        "username": form.get("username", "")[:200],
        "display_name": form.get("display_name", "")[:400],
        "role": form.get("role", ""),
        "active": checked(form, "active"),
        "counters": ids(form.getlist("counters")),
    }


def _staff_context() -> dict[str, Any]:
    counters = db.session.scalars(select(Counter).order_by(Counter.id)).all()
    return {"roles": ROLE_LABELS, "all_counters": counters}


def _staff_page(replacement: FormState | None = None, new: FormState | None = None) -> str:
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.role, User.username)).all()
    return render_template(
        "admin/staff.html",
        forms=merged([_user_state(u) for u in users], replacement),
        access={u.id: _access_state(u) for u in users},
        new=new or _blank_user(),
        **_staff_context(),
    )


@bp.get("/staff")
def staff_list() -> Any:
    """Every member of staff, with role, counters, password reset and API token."""
    return _staff_page()


@bp.post("/staff")
def create_staff() -> Any:
    """Add a member of staff; a password left empty is generated and shown once."""
    state = FormState(values=_user_form())
    password = request.form.get("password", "")
    problem = password_problem(password) if password else None
    with action(SettingsInvalid) as done:
        if problem:
            raise SettingsInvalid({"password": problem})
        secret = password or _new_password()
        user = create_user(db_session(), clock(), actor_id(), state.values, hash_password(secret))
    if error := done.error:
        refused(state, error)
        return answer("admin/_user_new.html", state, lambda s: _staff_page(new=s), **_staff_context())
    message = f"{user.username} created. · 已创建用户 {user.username}。"
    blank = _blank_user()
    blank.message = message
    blank.extra = {"created_username": user.username}
    if not password:
        blank.secret = secret
    if not is_htmx():
        # The generated password is shown on this page only, never carried in a redirect.
        return _staff_page(new=blank)
    created = _user_state(user)
    return render_template(
        "admin/_user_new.html",
        form=blank,
        created=created,
        created_access=_access_state(user),
        **_staff_context(),
    )


@bp.post("/staff/<int:user_id>")
def update_staff(user_id: int) -> Any:
    """Change a member of staff's display name, role, active flag and counters."""
    state = FormState(values=_user_form(), id=user_id)
    user = user_by_id(db_session(), user_id)
    state.values["username"] = user.username
    state.extra = {"self": user.id == actor_id()}
    with action(SettingsInvalid) as done:
        user = update_user(db_session(), clock(), actor_id(), user_id, state.values)
    if error := done.error:
        refused(state, error)
        return answer("admin/_user.html", state, lambda s: _staff_page(replacement=s), **_staff_context())
    if not is_htmx():
        flash(SAVED)
        return redirect(url_for(".staff_list"))
    return render_template("admin/_user.html", form=_user_state(user, SAVED), **_staff_context())


def _access_state(user: User, message: str | None = None) -> FormState:
    return FormState(
        values={"username": user.username, "api_token": user.api_token_hash is not None},
        id=user.id,
        message=message,
    )


def _access_answer(state: FormState) -> Any:
    if is_htmx():
        return render_template("admin/_user_access.html", access=state), state.status
    if state.secret:
        return _staff_page_with_access(state), state.status
    flash(state.message or SAVED)
    return redirect(url_for(".staff_list"))


def _staff_page_with_access(state: FormState) -> str:
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.role, User.username)).all()
    access = {u.id: _access_state(u) for u in users}
    access[state.id or 0] = state
    return render_template(
        "admin/staff.html",
        forms=[_user_state(u) for u in users],
        access=access,
        new=_blank_user(),
        **_staff_context(),
    )


@bp.post("/staff/<int:user_id>/password")
def reset_password(user_id: int) -> Any:
    """Give a member of staff a new password: the one typed, or a generated one shown once."""
    user = user_by_id(db_session(), user_id)
    password = request.form.get("password", "")
    problem = password_problem(password) if password else None
    if problem:
        state = _access_state(user)
        state.errors, state.message, state.ok = {"password": problem}, REFUSED, False
        if is_htmx():
            return render_template("admin/_user_access.html", access=state), 422
        return _staff_page_with_access(state), 422
    secret = password or _new_password()
    set_password(db_session(), clock(), actor_id(), user.id, hash_password(secret))
    commit()
    state = _access_state(user, f"New password for {user.username}. · 已为 {user.username} 重置密码。")
    if not password:
        state.secret = secret
    return _access_answer(state)


@bp.post("/staff/<int:user_id>/token")
def issue_api_token(user_id: int) -> Any:
    """Issue an API token (any earlier one stops working); shown once."""
    token = "qms_" + secrets.token_urlsafe(32)
    user = set_api_token(db_session(), clock(), actor_id(), user_id, token_digest(token))
    commit()
    state = _access_state(user, f"New API token for {user.username}. · 已为 {user.username} 签发接口令牌。")
    state.secret = token
    return _access_answer(state)


@bp.post("/staff/<int:user_id>/token/revoke")
def revoke_api_token(user_id: int) -> Any:
    """Revoke a member of staff's API token."""
    user = set_api_token(db_session(), clock(), actor_id(), user_id, None)
    commit()
    return _access_answer(_access_state(user, f"API token revoked. · 已撤销 {user.username} 的接口令牌。"))


# -- kiosk devices --------------------------------------------------------------------------


def _kiosks_state(message: str | None = None, **fields: Any) -> FormState:
    state = FormState(values={"name": ""}, message=message, **fields)
    state.extra = {"devices": db.session.scalars(select(KioskDevice).order_by(KioskDevice.id.desc())).all()}
    return state


def _tablets_state(message: str | None = None, **fields: Any) -> FormState:
    state = FormState(values={"name": "", "counter_id": ""}, message=message, **fields)
    state.extra = {
        "tablets": db.session.scalars(select(RatingTablet).order_by(RatingTablet.id.desc())).all(),
        "counters": db.session.scalars(
            select(Counter).where(Counter.active.is_(True)).order_by(Counter.id)
        ).all(),
    }
    return state


def _kiosks_page(state: FormState | None = None, tablets: FormState | None = None) -> str:
    return render_template(
        "admin/kiosks.html", form=state or _kiosks_state(), tablets=tablets or _tablets_state()
    )


@bp.get("/kiosks")
def kiosks() -> Any:
    """Registered kiosks (exempt from the per-address ticket limit), and registering one."""
    return _kiosks_page()


def _kiosks_answer(state: FormState) -> Any:
    if is_htmx():
        return render_template("admin/_kiosks.html", form=state), state.status
    if state.secret or state.errors:
        return _kiosks_page(state), state.status
    flash(state.message or SAVED)
    return redirect(url_for(".kiosks"))


@bp.post("/kiosks")
def register_kiosk_device() -> Any:
    """Register a kiosk: its one-time link is shown once, to open on that kiosk."""
    name = request.form.get("name", "")[:200]
    token, digest = new_device_token()
    with action(SettingsInvalid) as done:
        device = register_kiosk(db_session(), clock(), actor_id(), name, digest)
    if error := done.error:
        state = refused(_kiosks_state(), error)
        state.values["name"] = name
        return _kiosks_answer(state)
    state = _kiosks_state(
        f"Kiosk {device.name} registered: open this link once on it. · "
        f"已登记取号机 {device.name}，请在该机上打开此链接一次。"
    )
    state.secret = public_url("kiosk.register_device", token=token)
    return _kiosks_answer(state)


@bp.post("/kiosks/<int:device_id>/revoke")
def revoke_kiosk_device(device_id: int) -> Any:
    """Revoke a kiosk: its tickets count against the per-address limit again."""
    with action() as done:
        device = revoke_kiosk(db_session(), clock(), actor_id(), device_id)
    if error := done.error:
        if error.kind == "not_found":
            raise error
        state = _kiosks_state(error.message)
        state.ok = False
        return _kiosks_answer(state)
    return _kiosks_answer(_kiosks_state(f"Kiosk {device.name} revoked. · 已撤销取号机 {device.name}。"))


# -- rating tablets -------------------------------------------------------------------------


def _tablets_answer(state: FormState) -> Any:
    if is_htmx():
        return render_template("admin/_tablets.html", tablets=state), state.status
    if state.secret or state.errors:
        return _kiosks_page(tablets=state), state.status
    flash(state.message or SAVED)
    return redirect(url_for(".kiosks"))


@bp.post("/tablets")
def register_rating_tablet() -> Any:
    """Register a counter's rating tablet: its address (with its token) is shown once."""
    name = request.form.get("name", "")[:200]
    counter_id = request.form.get("counter_id", "")[:16]
    token, digest = new_device_token()
    with action(SettingsInvalid) as done:
        tablet = register_tablet(db_session(), clock(), actor_id(), name, counter_id, digest)
    if error := done.error:
        state = refused(_tablets_state(), error)
        state.values.update(name=name, counter_id=counter_id)
        return _tablets_answer(state)
    state = _tablets_state(
        f"Rating tablet {tablet.name} registered for counter {tablet.counter.name}: open this address on it "
        f"(keep it secret). · 已为 {tablet.counter.name} 号窗口登记评价器 {tablet.name}，"
        "请在该平板上打开此地址（请保密）。"
    )
    state.secret = public_url("tablet.rating_screen", device=token)
    return _tablets_answer(state)


@bp.post("/tablets/<int:tablet_id>/revoke")
def revoke_rating_tablet(tablet_id: int) -> Any:
    """Revoke a rating tablet: its address stops working at once."""
    with action() as done:
        tablet = revoke_tablet(db_session(), clock(), actor_id(), tablet_id)
    if error := done.error:
        if error.kind == "not_found":
            raise error
        state = _tablets_state(error.message)
        state.ok = False
        return _tablets_answer(state)
    return _tablets_answer(
        _tablets_state(f"Rating tablet {tablet.name} revoked. · 已撤销评价器 {tablet.name}。")
    )
