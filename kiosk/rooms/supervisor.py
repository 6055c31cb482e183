"""The supervisor's room: the hall live, reports with charts and exports, the staffing plan."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from kiosk.actions import commit
from kiosk.auth import MANAGER_ROLES, roles_required
from kiosk.charts import Series, bar_chart
from kiosk.context import clock, ranking_min_ratings
from kiosk.extensions import db, db_session
from kiosk.heartbeats import device_context
from kiosk.htmx import is_htmx
from queue_engine.core.dates import DateRange
from queue_engine.core.errors import InvalidFields
from queue_engine.core.exports import append_xlsx_row, write_csv
from queue_engine.core.models import Counter, Service, User
from queue_engine.core.numbers import whole_number
from queue_engine.hall.calendar import hall_settings
from queue_engine.hall.devices import forget_silent_devices
from queue_engine.quality.rectification import open_cases_overview
from queue_engine.queue.coverage import unserved_services
from queue_engine.reporting.handover import handover_workbook, report_title
from queue_engine.reporting.reports import ReportFilter, figure_rows, report
from queue_engine.reporting.staffing import WEEKDAYS, staffing_plan
from queue_engine.reporting.supervision import hall_overview

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")

HEADER = ("section", "key", "figure", "value")


@bp.app_template_filter("report_value")
def report_value(value: Any, figure: str) -> str:
    """A report figure as the page shows it: m:ss for seconds, % for shares, plain counts."""
    if value is None or value == "":
        return "—"
    if figure.endswith("_s"):
        seconds = round(float(value))
        sign, seconds = ("−" if seconds < 0 else ""), abs(seconds)  # a bias may be negative
        hours, rest = divmod(seconds, 3600)
        shown = f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
        return sign + shown
    if figure.endswith(("share", "_rate")):
        return f"{float(value) * 100:.1f}%"
    if figure.endswith("satisfaction.mean"):
        return f"{float(value):.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@bp.app_template_filter("sv_time")
def local_clock_time(instant: str | None) -> str:
    """An ISO UTC instant as the hall's local time of day."""
    if not instant:
        return ""
    return clock().local(datetime.fromisoformat(instant.replace("Z", "+00:00"))).strftime("%H:%M:%S")


def _partial_or_page(partial: str, page: str, **context: Any) -> Response:
    """An HTMX request gets the partial alone; anything else (and history restore) the full page."""
    return make_response(render_template(partial if is_htmx() else page, **context))


@bp.get("")
@roles_required(*MANAGER_ROLES)
def live() -> Response:
    """Queues against their targets, counters, devices and alerts; refreshed on every change."""
    return _partial_or_page(
        "supervisor/_live.html",
        "supervisor/live.html",
        hall=hall_overview(db_session(), clock()),
        rectification=open_cases_overview(db_session(), clock().today()),
        unserved=unserved_services(db_session()),
        **device_context(),
    )


@bp.post("/devices/forget-silent")
@roles_required(*MANAGER_ROLES)
def forget_silent() -> Any:
    """Forget the devices silent longer than the alert threshold (retired screens, a flood's names)."""
    silent_after_s = device_context()["silent_after_s"]
    forget_silent_devices(db_session(), clock(), current_user.id, silent_after_s)
    commit()
    if is_htmx():
        return live()
    return redirect(url_for("supervisor.live"))


def _choices() -> dict[str, Any]:
    return {
        "services": db.session.scalars(select(Service).order_by(Service.sort_order, Service.code)).all(),
        "counters": db.session.scalars(select(Counter).order_by(Counter.id)).all(),
        "clerks": db.session.scalars(select(User).order_by(User.username)).all(),
    }


def _period() -> tuple[date, date]:
    # A form's empty date field means "not given" (the API, which has no form, refuses it).
    first, last = request.args.get("from") or None, request.args.get("to") or None
    period = DateRange.parse(first, last, default=clock().today())
    return period.first, period.last


def _filter() -> ReportFilter:
    service_id = counter_id = staff_id = None
    if code := request.args.get("service"):
        service_id = db.session.scalars(select(Service.id).where(Service.code == code)).first()
        if service_id is None:
            abort(422, f"No service has the code {code!r}. · 没有代码为 {code!r} 的业务。")
    if raw := request.args.get("counter"):
        counter_id = whole_number(raw)
        if counter_id is None or db.session.get(Counter, counter_id) is None:
            abort(422, "No such counter. · 没有这个窗口。")
    if username := request.args.get("clerk"):
        staff_id = db.session.scalars(select(User.id).where(User.username == username)).first()
        if staff_id is None:
            abort(422, "No such clerk. · 没有这名经办人。")
    return ReportFilter(service_id=service_id, counter_id=counter_id, staff_id=staff_id)


def _report() -> dict[str, Any]:
    first, last = _period()
    return report(db_session(), clock(), first, last, _filter(), min_ratings=ranking_min_ratings())


def _charts(result: dict[str, Any]) -> dict[str, Any]:
    hours = {h["hour"]: h for h in result["hours"]}
    span = range(min(hours), max(hours) + 1) if hours else range(8, 18)
    sat = result["totals"]["satisfaction"]["distribution"]
    services = result["services"]
    return {
        "hours": bar_chart(
            [f"{h:02d}" for h in span],
            [
                Series("Arrivals · 取号", [hours[h]["issued"] if h in hours else 0 for h in span], "bar-a"),
                Series("Served · 办结", [hours[h]["served"] if h in hours else 0 for h in span], "bar-b"),
            ],
            title="Arrivals and services by hour · 分时段取号与办结",
        ),
        "satisfaction": bar_chart(
            ["1", "2", "3", "4", "5"],
            [Series("Ratings · 评价数", [sat[str(n)] for n in range(1, 6)], "bar-c")],
            title="Ratings 1-5 · 满意度分布",
            width=320,
        ),
        "waits": bar_chart(
            [s["code"] for s in services],
            [
                Series(
                    "Median wait min · 等候中位数",
                    [(s["wait"]["median_s"] or 0) / 60 for s in services],
                    "bar-a",
                ),
                Series("P90 wait min · 90%等候", [(s["wait"]["p90_s"] or 0) / 60 for s in services], "bar-d"),
                Series("Target min · 目标", [s["target_wait_min"] or 0 for s in services], "bar-t"),
            ],
            title="Waits against targets, minutes · 等候时长与目标（分钟）",
            width=420,
        ),
    }


def _figures(result: dict[str, Any]) -> dict[str, Any]:
    return {f"{section}|{key}|{figure}": value for section, key, figure, value in figure_rows(result)}


@bp.get("/reports")
@roles_required(*MANAGER_ROLES)
def reports() -> Any:
    """A period's figures, tables and charts, with the export and print links.

    A period that is not one (not a date, 'from' after 'to', too long) is explained on this
    page, above the filters as typed, so that it can be corrected here.
    """
    try:
        result = _report()
    except InvalidFields as refused:
        return render_template(
            "supervisor/reports.html",
            r=None,
            period_errors=refused.errors,
            query=request.args.to_dict(),
            **_choices(),
        ), 422
    return render_template(
        "supervisor/reports.html",
        r=result,
        fig=_figures(result),
        charts=_charts(result),
        query=request.args.to_dict(),
        **_choices(),
    )


def _export_name(result: dict[str, Any], extension: str) -> str:
    span = result["from"] if result["from"] == result["to"] else f"{result['from']}_{result['to']}"
    return f"report-{span}.{extension}"


@bp.get("/reports.csv")
@roles_required(*MANAGER_ROLES)
def reports_csv() -> Response:
    """The page's figures as CSV rows (section, key, figure, value); UTF-8 with BOM for Excel."""
    result = _report()
    out = io.StringIO()
    out.write("\ufeff")
    write_csv(out, HEADER, figure_rows(result))
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename={_export_name(result, 'csv')}"
    return response


@bp.get("/reports.xlsx")
@roles_required(*MANAGER_ROLES)
def reports_xlsx() -> Response:
    """The same rows as the CSV, in a workbook (sheet "figures"), numbers as numbers."""
    from openpyxl import Workbook

    result = _report()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "figures"
    append_xlsx_row(sheet, HEADER)
    for row in figure_rows(result):
        append_xlsx_row(sheet, row)
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCD", (12, 16, 30, 14), strict=True):
        sheet.column_dimensions[column].width = width
    data = io.BytesIO()
    book.save(data)
    response = Response(
        data.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = f"attachment; filename={_export_name(result, 'xlsx')}"
    return response


def _report_language() -> str:
    """The handed-over report's language: Chinese, English with ``?lang=en``."""
    return "en" if request.args.get("lang") == "en" else "zh"


def _hall_name(lang: str) -> str:
    names = hall_settings(db_session()).name
    return str(names.get(lang) or names.get("zh") or next(iter(names.values()), ""))


@bp.get("/reports/handover.xlsx")
@roles_required(*MANAGER_ROLES)
def reports_handover() -> Response:
    """The report a manager sends upward: the hall and period, a sheet per part, charts, sign-off."""
    result = _report()
    lang = _report_language()
    data = handover_workbook(result, _hall_name(lang), clock().today(), lang)
    response = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = _export_name(result, "xlsx").replace("report-", "handover-", 1)
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return response


@bp.get("/reports/print")
@roles_required(*MANAGER_ROLES)
def reports_print() -> str:
    """A day's or a period's report laid out for one A4 page, titled with the hall and the period."""
    result = _report()
    return render_template(
        "supervisor/print.html",
        r=result,
        fig=_figures(result),
        charts=_charts(result),
        now=clock().now(),
        hall_name=_hall_name("zh"),
        hall_name_en=_hall_name("en"),
        title=report_title(result["from"], result["to"], "zh"),
        title_en=report_title(result["from"], result["to"], "en"),
    )


@bp.get("/staffing")
@roles_required(*MANAGER_ROLES)
def staffing() -> str:
    """Counters needed per hour of a weekday (Erlang C) beside the counters that were open."""
    today = clock().today()
    try:
        weekday = int(request.args.get("weekday", today.weekday()))
        weeks = int(request.args.get("weeks", 8))
        target = float(request.args["target"]) if request.args.get("target") else None
    except ValueError:
        abort(422, "weekday, weeks and target are numbers.")
    if not 0 <= weekday <= 6 or not 1 <= weeks <= 53 or (target is not None and not 0 < target <= 240):
        abort(422, "weekday 0-6, weeks 1-53, target 1-240 minutes.")
    where = _filter()
    plan = staffing_plan(
        db_session(), clock(), weekday=weekday, weeks=weeks, service_id=where.service_id, target_min=target
    )
    hours = plan["hours"]
    chart = bar_chart(
        [f"{h['hour']:02d}" for h in hours],
        [
            Series("Needed · 需开窗口", [h["needed"] for h in hours], "bar-d"),
            Series("Open · 实开窗口", [h["open"] for h in hours], "bar-b"),
        ],
        title="Counters needed and open by hour · 分时段需开与实开窗口",
    )
    return render_template(
        "supervisor/staffing.html",
        plan=plan,
        chart=chart,
        weekdays=WEEKDAYS,
        query=request.args.to_dict(),
        yesterday=today - timedelta(days=1),
        **_choices(),
    )
