"""The supervisor's personal-data page (PIPL): find one person, export or erase their data."""

from __future__ import annotations

import io
import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from kiosk.actions import commit, writes_on_get
from kiosk.auth import MANAGER_ROLES, roles_required, staff
from kiosk.context import clock
from kiosk.extensions import db_session
from queue_engine.booking.views import mask_name, mask_phone
from queue_engine.core.errors import InvalidInput
from queue_engine.core.exports import write_csv
from queue_engine.hall.personal_data import PersonsData, erase_person, export_person, find_person

bp = Blueprint("personal_data", __name__, url_prefix="/supervisor/personal-data")

EXPORT_HEADER = ("kind", "id", "when", "name", "contact", "details", "outcome")


def _masked(found: PersonsData) -> list[dict[str, Any]]:
    return [
        {**row, "name": mask_name(row["name"]) if row["name"] else "", "contact": mask_phone(row["contact"])}
        for row in found.rows()
    ]


@bp.get("")
@roles_required(*MANAGER_ROLES)
@writes_on_get
def search() -> Any:
    """Find a person's records by phone, contact or name; the list shows them masked."""
    query = request.args.get("q", "").strip()
    rows: list[dict[str, Any]] = []
    error = None
    if query:
        try:
            rows = _masked(find_person(db_session(), query))
        except InvalidInput as refused:
            error = refused.message + " / 请输入至少两个字符的电话、联系方式或姓名。"
    return render_template("supervisor/personal_data.html", query=query, rows=rows, error=error)


@bp.post("/export")
@roles_required(*MANAGER_ROLES)
def export() -> Any:
    """Everything held about the person, unmasked (JSON or formula-safe CSV); audited."""
    query = request.form.get("q", "")
    try:
        found = export_person(db_session(), clock(), staff().id, query)
    except InvalidInput:
        return redirect(url_for("personal_data.search"))
    commit()
    rows = found.rows()
    if request.form.get("format") == "csv":
        out = io.StringIO()
        write_csv(out, EXPORT_HEADER, ([row[k] for k in EXPORT_HEADER] for row in rows))
        answer = Response(out.getvalue(), mimetype="text/csv")
        answer.headers["Content-Disposition"] = "attachment; filename=personal-data.csv"
    else:
        answer = Response(json.dumps({"records": rows}, ensure_ascii=False), mimetype="application/json")
        answer.headers["Content-Disposition"] = "attachment; filename=personal-data.json"
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.post("/erase")
@roles_required(*MANAGER_ROLES)
def erase() -> Any:
    """Erase the person's name, contact and description everywhere (figures kept); audited."""
    try:
        count = erase_person(db_session(), clock(), staff().id, request.form.get("q", ""))
    except InvalidInput:
        return redirect(url_for("personal_data.search"))
    commit()
    flash(f"{count} record(s) erased; figures kept. / 已删除 {count} 条记录中的个人信息，统计数据保留。")
    return redirect(url_for("personal_data.search"))
