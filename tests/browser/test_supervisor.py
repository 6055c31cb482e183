"""The supervisor's pages in a real chromium: the hall live follows calls; reports print on A4."""

from __future__ import annotations

import re

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, shot
from tests.live import DEMO_PASSWORD

pytestmark = pytest.mark.browser
TICKET_CELL_1 = "document.querySelector(\"#counter-states tr[data-counter-id='1'] td.ticket\")"


def log_in(page, server, username="supervisor"):
    page.goto(server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def take(server, service="A"):
    answer = requests.post(server.url + "/api/v1/tickets", json={"service": service}, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()


def post(server, path, headers, **body):
    answer = requests.post(server.url + path, headers=headers, json=body or None, timeout=5)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def counter_cell(page, counter_id, column):
    return page.locator(f"#counter-states tr[data-counter-id='{counter_id}'] td").nth(column)


def test_the_live_page_follows_a_call_without_reloading(server, new_page):
    clerk = server.token("clerk1")
    page = new_page(1366, 900)
    log_in(page, server)
    page.goto(server.url + "/supervisor")
    page.wait_for_selector("#supervisor-live")
    page.evaluate("window.__sameDocument = true")
    waiting_before = int(page.inner_text("#waiting-total"))

    ticket = take(server, "A")
    page.wait_for_function(
        "n => document.getElementById('waiting-total').textContent.trim() === String(n)",
        arg=waiting_before + 1,
    )
    assert counter_cell(page, 1, 2).inner_text().strip() == "—"

    called = post(server, "/api/v1/counters/1/call-next", clerk)["ticket"]
    assert called["number"] == ticket["number"]
    page.wait_for_function(f"n => {TICKET_CELL_1}.textContent.includes(n)", arg=ticket["number"])
    row = page.locator("#counter-states tr[data-counter-id='1']")
    assert "Open" in row.inner_text() and "clerk" in row.inner_text().lower()
    assert page.evaluate("window.__sameDocument") is True  # updated in place, never reloaded
    assert page.js_errors == []
    shot(page, "supervisor-live-call")

    post(server, f"/api/v1/tickets/{ticket['token']}/start", clerk)
    post(server, f"/api/v1/tickets/{ticket['token']}/finish", clerk, outcome="resolved")
    page.wait_for_function(f"() => {TICKET_CELL_1}.textContent.trim() === '—'")
    assert page.evaluate("window.__sameDocument") is True


def test_an_alert_shows_when_a_wait_passes_its_target(server, new_page):
    """Service D's target is 10 minutes: a ticket issued now waits less, so no alert; the page says so."""
    page = new_page(1366, 900)
    log_in(page, server)
    take(server, "D")
    page.goto(server.url + "/supervisor")
    card = page.locator(".service-card[data-service='D']")
    assert "level-ok" in card.get_attribute("class")
    assert page.locator("#wait-alerts").count() == 0


def test_the_reports_page_and_its_printable_daily_report(server, new_page):
    clerk = server.token("clerk2")
    for service in ("A", "B", "B", "C"):
        take(server, service)
    for _ in range(3):
        ticket = post(server, "/api/v1/counters/2/call-next", clerk)["ticket"]
        post(server, f"/api/v1/tickets/{ticket['token']}/start", clerk)
        post(server, f"/api/v1/tickets/{ticket['token']}/finish", clerk, outcome="resolved")
        post(server, f"/api/v1/tickets/{ticket['token']}/rating", {}, score=5)

    page = new_page(1366, 900)
    log_in(page, server)
    page.goto(server.url + "/supervisor/reports")
    served = int(page.locator("[data-figure='totals||served']").get_attribute("data-value"))
    assert served >= 3
    assert page.locator("svg.chart").count() == 3
    assert page.locator("svg.chart rect.bar-a").count() > 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, "the report page scrolls sideways"
    assert page.js_errors == []
    page.screenshot(path=str(ARTIFACTS / "supervisor-reports.png"), full_page=True)

    page.goto(server.url + "/supervisor/reports/print")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    (ARTIFACTS / "supervisor-daily-report.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1, "the daily report fits one A4 page"
    shot(page, "supervisor-daily-report-print")


def test_clerks_are_refused_the_supervisor_page(server, new_page):
    page = new_page()
    log_in(page, server, "clerk3")
    answer = page.goto(server.url + "/supervisor")
    assert answer.status == 403
