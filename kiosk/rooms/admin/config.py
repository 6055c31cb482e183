"""Admin: the audit log (who changed what, before -> after) and the configuration file.

The configuration file (services, counters, hall settings; no staff, passwords or tokens) is
exported and imported by ``queue_engine.hall.config_io``; the import checks the whole file first
and changes nothing when any part is wrong.  "Check only" runs the import and rolls it back.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import select

from kiosk import runtime as hall_runtime
from kiosk.actions import commit, writes_on_get
from kiosk.context import clock
from kiosk.extensions import db, db_session
from kiosk.htmx import is_htmx
from kiosk.rooms.admin.forms import actor_id
from queue_engine.core.models import AuditEntry, User
from queue_engine.core.numbers import whole_number
from queue_engine.hall.audit import audit
from queue_engine.hall.config_io import ConfigInvalid, dump_config, export_config, import_config, parse_config

bp = Blueprint("config", __name__)

AUDIT_PAGE = 300
# Within the app's MAX_CONTENT_LENGTH (64 KB, read before any view by the CSRF check); a hall
# with a hundred services exports about 30 KB.
CONFIG_MAX_BYTES = 60 * 1024


def _day(name: str) -> date | None:
    try:
        day = date.fromisoformat(request.args.get(name, "")) if request.args.get(name) else None
    except ValueError:
        return None
    # A day at the calendar's very ends has no local bounds (its next midnight is past 9999).
    return day if day is None or date.min < day < date.max else None


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys (names.en, opening_hours.0), so a diff names what changed."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) and "code" in v for v in value):
            value = {v["code"]: v for v in value}  # an imported file's services, by code
        elif isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
            value = {v["name"]: v for v in value}  # ... and its counters, by name
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """The fields an audit row changed: (field, before, after) as text; all fields of a create or delete."""
    before, after = _flat(entry.before or {}), _flat(entry.after or {})
    keys = list(dict.fromkeys([*before, *after]))
    return [(k, shown(before.get(k)), shown(after.get(k))) for k in keys if before.get(k) != after.get(k)]


def shown(value: Any, limit: int = 300) -> str:
    """A recorded value as a reader wants it: names as written, hours as 08:30-12:00."""
    if value is None:
        return "—"
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, list) and len(v) == 2 for v in value):
        text = ", ".join("-".join(map(str, pair)) for pair in value)
    elif isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        text = ", ".join(map(str, value)) or "[]"
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@bp.get("/audit")
def audit_log() -> Any:
    """Audit rows, newest first, filtered by user, action and local date range."""
    user_id = request.args.get("user", "")
    action = request.args.get("action", "")
    start, end = _day("from"), _day("to")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE)
    if (number := whole_number(user_id)) is not None:
        query = query.where(AuditEntry.user_id == number)
    elif user_id == "none":
        query = query.where(AuditEntry.user_id.is_(None))
    if action:
        query = query.where(AuditEntry.action == action[:48])
    if start:
        query = query.where(AuditEntry.at >= clock().day_bounds(start)[0])
    if end:
        query = query.where(AuditEntry.at < clock().day_bounds(end)[1])
    entries = db.session.scalars(query).all()
    users = db.session.scalars(select(User).order_by(User.username)).all()
    actions = db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    bad_dates = bool(request.args.get("from") and not start) or bool(request.args.get("to") and not end)
    return render_template(
        "admin/audit.html",
        entries=entries,
        changes=changes,
        users=users,
        names={u.id: u.username for u in users},
        actions=actions,
        filters={"user": user_id, "action": action, "from": start or "", "to": end or ""},
        bad_dates=bad_dates,
        page_size=AUDIT_PAGE,
    )


@bp.get("/config")
def config_page() -> Any:
    """Export and import of the configuration file."""
    return render_template("admin/config.html", result=None)


@bp.get("/config.json")
@writes_on_get
def export() -> Any:
    """Download the configuration file (audited as an export)."""
    text = dump_config(export_config(db_session(), clock()))
    audit(db_session(), clock(), actor_id(), "export_config", "config")
    commit()
    stamp = clock().today().isoformat()
    return Response(
        text,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="hall-config-{stamp}.json"'},
    )


@bp.post("/config")
def import_file() -> Any:
    """Import a configuration file, or only check it; a file with any problem changes nothing."""
    upload = request.files.get("file")
    check_only = request.form.get("mode") == "check"
    result: dict[str, Any] = {"check_only": check_only, "filename": upload.filename if upload else ""}
    data = upload.read(CONFIG_MAX_BYTES + 1) if upload else b""
    try:
        if not data:
            raise ConfigInvalid(["Choose a configuration file (.json). · 请选择配置文件。"])
        if len(data) > CONFIG_MAX_BYTES:
            raise ConfigInvalid([f"The file is larger than {CONFIG_MAX_BYTES // 1024} KB. · 文件过大。"])
        summary = import_config(db_session(), clock(), actor_id(), parse_config(data))
    except ConfigInvalid as error:
        db.session.rollback()
        result.update(errors=error.errors, message=error.message)
        return _import_answer(result, 422)
    result["summary"] = summary
    if check_only:
        db.session.rollback()
        return _import_answer(result, 200)
    commit()
    hall_runtime.sync(current_app._get_current_object())  # type: ignore[attr-defined]
    return _import_answer(result, 200)


def _import_answer(result: dict[str, Any], status: int) -> Any:
    template = "admin/_import_result.html" if is_htmx() else "admin/config.html"
    return render_template(template, result=result), status
