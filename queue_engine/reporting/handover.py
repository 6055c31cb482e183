"""The report a hall's manager hands over (统计报表): a workbook a person reads, not a machine sheet.

The machine exports (CSV and the "figures" XLSX) stay one long table of English keys, seconds
and fractions.  This workbook has the hall's name and the period as its title, one sheet per
part (概况, 时长, 按小时, 按人员, 满意度, 预约 when there were bookings), Chinese headers (English
when asked), durations in minutes, shares as percentages, charts of the arrivals by hour and of
the ratings, and the 制表人 / 审核人 sign-off lines at the foot of every sheet.  Every cell goes
through ``queue_engine.core.exports`` (formula-safe).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from queue_engine.core.exports import append_xlsx_row

# Each label as (Chinese, English).
TEXT: dict[str, tuple[str, str]] = {
    "daily": ("统计日报", "Daily report"),
    "range": ("统计报表", "Report"),
    "to": ("至", "to"),
    "overview": ("概况", "Overview"),
    "times": ("时长", "Times"),
    "hours": ("按小时", "By hour"),
    "clerks": ("按人员", "By clerk"),
    "satisfaction": ("满意度", "Satisfaction"),
    "bookings": ("预约", "Bookings"),
    "figure": ("指标", "Figure"),
    "value": ("数值", "Value"),
    "service": ("业务", "Service"),
    "issued": ("取号", "Issued"),
    "served": ("办结", "Served"),
    "no_show": ("过号", "No-show"),
    "cancelled": ("取消", "Cancelled"),
    "transferred_out": ("转移", "Transferred"),
    "expired": ("过期作废", "Expired"),
    "open": ("未结", "Still open"),
    "wait": ("等候（取号→叫号）", "Wait (issue → call)"),
    "walk": ("到窗（叫号→开始）", "Walk (call → start)"),
    "service_time": ("办理（开始→办结）", "Service (start → finish)"),
    "count": ("笔数", "Count"),
    "mean_min": ("平均（分钟）", "Mean (min)"),
    "median_min": ("中位数（分钟）", "Median (min)"),
    "p90_min": ("90%分位（分钟）", "90th pct (min)"),
    "target_min": ("目标等候（分钟）", "Target wait (min)"),
    "over_target": ("超时笔数", "Over target"),
    "over_share": ("超时率", "Share over target"),
    "hour": ("时段", "Hour"),
    "arrivals_chart": ("分时段取号与办结", "Arrivals and services by hour"),
    "clerk": ("经办人", "Clerk"),
    "visits": ("办件", "Visits"),
    "mean_service_min": ("平均办理（分钟）", "Mean service (min)"),
    "rating_mean": ("平均分", "Mean rating"),
    "ratings": ("评价数", "Ratings"),
    "response_rate": ("参评率", "Coverage"),
    "satisfaction_rate": ("满意率", "Satisfied"),
    "bad": ("差评数", "Bad ratings"),
    "score": ("评价", "Rating"),
    "rated_5": ("5 非常满意", "5 very satisfied"),
    "rated_4": ("4 满意", "4 satisfied"),
    "rated_3": ("3 基本满意", "3 fairly satisfied"),
    "rated_2": ("2 不满意", "2 dissatisfied"),
    "rated_1": ("1 非常不满意", "1 very dissatisfied"),
    "ratings_chart": ("满意度分布", "Ratings 1-5"),
    "good_bad": ("好差评", "Good and bad ratings"),
    "good": ("好评（4-5分）", "Good (4-5)"),
    "cases": ("差评整改件", "Bad ratings (cases)"),
    "rectified": ("已整改", "Rectified"),
    "rectified_on_time": ("按期整改", "Rectified on time"),
    "on_time_rate": ("按期整改率", "On-time rate"),
    "overdue": ("超期未整改", "Overdue"),
    "followed_up": ("已回访", "Follow-up calls"),
    "follow_up_rate": ("回访率", "Follow-up rate"),
    "reached": ("联系上", "Reached"),
    "reply_rate": ("回复率", "Reply rate"),
    "complaints": ("投诉", "Complaints"),
    "opened": ("受理", "Opened"),
    "resolved": ("已办结", "Resolved"),
    "booked": ("预约数", "Bookings"),
    "checked_in": ("已签到", "Checked in"),
    "missed": ("爽约", "Missed"),
    "waiting": ("待签到", "Not yet checked in"),
    "no_show_rate": ("爽约率", "No-show rate"),
    "punctual": ("准时签到", "Before the slot's start"),
    "punctuality_rate": ("准时率", "Punctuality"),
    "wait_booked": ("预约人等候", "Booked visitors' wait"),
    "wait_walk_in": ("现场取号等候", "Walk-ins' wait"),
    "filters": ("筛选", "Filter"),
    "prepared_by": ("制表人：", "Prepared by:"),
    "approved_by": ("审核人：", "Approved by:"),
    "prepared_on": ("制表日期：", "Date:"),
}

COUNTS = ("issued", "served", "no_show", "cancelled", "transferred_out", "expired", "open")
TIMINGS = ("wait", "walk", "service_time")
PERCENT = "0.0%"
MINUTES = "0.0"


def label(key: str, lang: str) -> str:
    """A label in the report's language: Chinese, or English for ``lang="en"``."""
    chinese, english = TEXT[key]
    return english if lang == "en" else chinese


def report_title(first: date | str, last: date | str, lang: str = "zh") -> str:
    """The report's title for its period: "统计日报 2026-11-05", "统计报表 2026-11-01 至 2026-11-30"."""
    first, last = str(first), str(last)
    if first == last:
        return f"{label('daily', lang)} {first}"
    return f"{label('range', lang)} {first} {label('to', lang)} {last}"


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


class _Sheet:
    """One part of the workbook: the title lines, tables, the sign-off lines at the foot."""

    def __init__(self, sheet: Worksheet, lang: str) -> None:
        self.sheet, self.lang = sheet, lang

    def row(self, values: Sequence[Any], formats: Sequence[str | None] = (), bold: bool = False) -> int:
        append_xlsx_row(self.sheet, values)
        at = self.sheet.max_row
        for column, number_format in enumerate(formats, start=1):
            if number_format:
                self.sheet.cell(at, column).number_format = number_format
        if bold:
            for column in range(1, len(values) + 1):
                self.sheet.cell(at, column).font = Font(bold=True)
        return at

    def header(self, keys: Sequence[str]) -> int:
        return self.row([label(k, self.lang) for k in keys], bold=True)

    def gap(self) -> None:
        self.sheet.append([])

    def widths(self, *widths: int) -> None:
        for column, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[chr(ord("A") + column - 1)].width = width


def _titles(part: _Sheet, hall_name: str, result: dict[str, Any], part_key: str) -> None:
    lang = part.lang
    at = part.row([hall_name])
    part.sheet.cell(at, 1).font = Font(bold=True, size=14)
    at = part.row([f"{report_title(result['from'], result['to'], lang)} · {label(part_key, lang)}"])
    part.sheet.cell(at, 1).font = Font(bold=True, size=12)
    chosen = [f"{name}: {value}" for name, value in result["filters"].items() if value is not None]
    if chosen:
        part.row([f"{label('filters', lang)} {' · '.join(chosen)}"])
    part.gap()


def _sign_off(part: _Sheet, prepared_on: date) -> None:
    part.gap()
    part.gap()
    at = part.row(
        [
            label("prepared_by", part.lang),
            "",
            label("approved_by", part.lang),
            "",
            label("prepared_on", part.lang),
            prepared_on.isoformat(),
        ]
    )
    for column in (1, 3, 5):
        part.sheet.cell(at, column).alignment = Alignment(horizontal="right")
    for column in (2, 4):  # the line to sign on
        part.sheet.cell(at, column).border = Border(bottom=Side(style="thin"))


def _overview(part: _Sheet, result: dict[str, Any]) -> None:
    totals = result["totals"]
    part.header(("figure", "value"))
    for key in COUNTS:
        part.row([label(key, part.lang), totals[key]])
    part.gap()
    part.header(("service", *COUNTS))
    for service in result["services"]:
        name = service["name"].get(part.lang) or service["name"].get("zh", "")
        part.row([f"{service['code']} {name}".strip(), *(service[k] for k in COUNTS)])
    part.widths(24, 12, 12, 12, 12, 12, 12, 12)


def _times(part: _Sheet, result: dict[str, Any]) -> None:
    totals = result["totals"]
    stats = ("count", "mean_min", "median_min", "p90_min")
    formats = (None, None, MINUTES, MINUTES, MINUTES)
    part.header(("figure", *stats))
    for timing in TIMINGS:
        summary = totals[timing]
        row = [summary["count"], *(_minutes(summary[k]) for k in ("mean_s", "median_s", "p90_s"))]
        part.row([label(timing, part.lang), *row], formats)
    part.row([label("over_target", part.lang), totals["over_target"]["count"]])
    part.row([label("over_share", part.lang), totals["over_target"]["share"]], (None, PERCENT))
    part.gap()
    part.header(("service", "target_min", "count", "mean_min", "median_min", "p90_min", "over_share"))
    for service in result["services"]:
        wait = service["wait"]
        part.row(
            [
                service["code"],
                service["target_wait_min"],
                wait["count"],
                *(_minutes(wait[k]) for k in ("mean_s", "median_s", "p90_s")),
                service["over_target"]["share"],
            ],
            (None, None, None, MINUTES, MINUTES, MINUTES, PERCENT),
        )
    part.widths(24, 16, 12, 14, 14, 16, 12)


def _hours(part: _Sheet, result: dict[str, Any]) -> tuple[int, int]:
    """The hours' table; the rows it spans (header row, last row) for the charts."""
    top = part.header(("hour", "issued", "served"))
    for hour in result["hours"]:
        part.row([f"{hour['hour']:02d}:00", hour["issued"], hour["served"]])
    part.widths(12, 12, 12)
    return top, part.sheet.max_row


def _hour_chart(source: Worksheet, top: int, bottom: int, lang: str) -> BarChart:
    chart = BarChart()
    chart.title = label("arrivals_chart", lang)
    chart.y_axis.title = label("count", lang)
    chart.x_axis.title = label("hour", lang)
    chart.add_data(
        Reference(source, min_col=2, max_col=3, min_row=top, max_row=bottom), titles_from_data=True
    )
    chart.set_categories(Reference(source, min_col=1, min_row=top + 1, max_row=bottom))
    chart.width, chart.height = 18, 9
    return chart


def _clerks(part: _Sheet, result: dict[str, Any]) -> None:
    part.header(
        (
            "clerk",
            "visits",
            "no_show",
            "transferred_out",
            "mean_service_min",
            "rating_mean",
            "ratings",
            "satisfaction_rate",
        )
    )
    for person in result["staff"]:
        sat = person["satisfaction"]
        part.row(
            [
                person["display_name"] or person["username"] or str(person["user_id"]),
                person["served"],
                person["no_show"],
                person["transferred_out"],
                _minutes(person["service_time"]["mean_s"]),
                sat["mean"],
                sat["ratings"],
                sat["satisfaction_rate"],
            ],
            (None, None, None, None, MINUTES, "0.00", None, PERCENT),
        )
    part.widths(20, 10, 10, 10, 16, 10, 10, 10)


def _satisfaction(part: _Sheet, result: dict[str, Any]) -> None:
    sat, quality, complaints = result["totals"]["satisfaction"], result["quality"], result["complaints"]
    lang = part.lang
    top = part.header(("score", "ratings"))
    for n in (5, 4, 3, 2, 1):
        part.row([label(f"rated_{n}", lang), sat["distribution"][str(n)]])
    bottom = part.sheet.max_row
    part.gap()
    part.header(("figure", "value"))
    part.row([label("ratings", lang), sat["ratings"]])
    part.row([label("rating_mean", lang), sat["mean"]], (None, "0.00"))
    part.row([label("response_rate", lang), sat["response_rate"]], (None, PERCENT))
    part.row([label("satisfaction_rate", lang), sat["satisfaction_rate"]], (None, PERCENT))
    part.gap()
    part.row([label("good_bad", lang)], bold=True)
    part.row([label("good", lang), sat["distribution"]["4"] + sat["distribution"]["5"]])
    part.row([label("bad", lang), sat["bad"]])
    for key in ("cases", "rectified", "rectified_on_time", "on_time_rate", "overdue"):
        part.row([label(key, lang), quality[key]], (None, PERCENT if key.endswith("rate") else None))
    for key in ("followed_up", "follow_up_rate", "reached", "reply_rate"):
        part.row([label(key, lang), quality[key]], (None, PERCENT if key.endswith("rate") else None))
    part.gap()
    part.row([label("complaints", lang)], bold=True)
    for key in ("opened", "resolved", "open", "overdue"):
        part.row([label(key, lang), complaints[key]])
    chart = BarChart()
    chart.title = label("ratings_chart", lang)
    chart.legend = None
    chart.add_data(Reference(part.sheet, min_col=2, min_row=top, max_row=bottom), titles_from_data=True)
    chart.set_categories(Reference(part.sheet, min_col=1, min_row=top + 1, max_row=bottom))
    chart.width, chart.height = 14, 8
    part.sheet.add_chart(chart, "D5")
    part.widths(22, 12)


def _bookings(part: _Sheet, bookings: dict[str, Any]) -> None:
    part.header(("figure", "value"))
    for key in ("booked", "checked_in", "missed", "cancelled", "waiting", "no_show_rate", "punctual"):
        part.row([label(key, part.lang), bookings[key]], (None, PERCENT if key.endswith("rate") else None))
    part.row([label("punctuality_rate", part.lang), bookings["punctuality_rate"]], (None, PERCENT))
    part.gap()
    part.header(("figure", "count", "mean_min", "median_min", "p90_min"))
    for key in ("wait_booked", "wait_walk_in"):
        summary = bookings[key]
        part.row(
            [
                label(key, part.lang),
                summary["count"],
                *(_minutes(summary[k]) for k in ("mean_s", "median_s", "p90_s")),
            ],
            (None, None, MINUTES, MINUTES, MINUTES),
        )
    part.widths(22, 12, 14, 14, 16)


def handover_workbook(result: dict[str, Any], hall_name: str, prepared_on: date, lang: str = "zh") -> bytes:
    """A report (``reports.report``) as the workbook a manager hands over, saved as XLSX bytes."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)

    def part(key: str) -> _Sheet:
        made = _Sheet(book.create_sheet(label(key, lang)), lang)
        _titles(made, hall_name, result, key)
        return made

    overview = part("overview")
    _overview(overview, result)
    times = part("times")
    _times(times, result)
    hours = part("hours")
    top, bottom = _hours(hours, result)
    if bottom > top:
        hours.sheet.add_chart(_hour_chart(hours.sheet, top, bottom, lang), "E5")
        trend = LineChart()
        trend.title = label("arrivals_chart", lang)
        trend.add_data(
            Reference(hours.sheet, min_col=2, max_col=3, min_row=top, max_row=bottom), titles_from_data=True
        )
        trend.set_categories(Reference(hours.sheet, min_col=1, min_row=top + 1, max_row=bottom))
        trend.width, trend.height = 18, 8
        overview.sheet.add_chart(trend, "J5")
    clerks = part("clerks")
    _clerks(clerks, result)
    satisfaction = part("satisfaction")
    _satisfaction(satisfaction, result)
    sheets = [overview, times, hours, clerks, satisfaction]
    if result["bookings"]["booked"]:
        bookings = part("bookings")
        _bookings(bookings, result["bookings"])
        sheets.append(bookings)
    for made in sheets:
        _sign_off(made, prepared_on)
        made.sheet.page_setup.orientation = "landscape"
        made.sheet.page_setup.paperSize = made.sheet.PAPERSIZE_A4
        made.sheet.page_setup.fitToWidth = 1
        made.sheet.page_setup.fitToHeight = 0
        made.sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()
