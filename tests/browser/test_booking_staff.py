"""Bookings for staff in a real chromium: the clerk checks a visitor in by code and the Next list
marks the booked ticket; the supervisor's day updates after a check-in and opens one person."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.browser.conftest import shot
from tests.browser.test_supervisor import log_in

pytestmark = pytest.mark.browser

HALL = ZoneInfo("Asia/Shanghai")  # the live server runs on the real clock


def _next_slot() -> datetime:
    """The next 15-minute slot of A: its check-in window (from 30 minutes before) is open now."""
    now = datetime.now(HALL).replace(second=0, microsecond=0)
    return now + timedelta(minutes=15 - now.minute % 15)


def _book(server, start: datetime, phone: str, name: str) -> str:
    answer = requests.post(
        server.url + "/api/v1/appointments",
        json={"service": "A", "start": start.isoformat(), "name": name, "phone": phone},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["code"])


def test_the_clerk_checks_a_booking_in_and_the_next_list_marks_it(server, new_page):
    start = _next_slot()
    code = _book(server, start, "13900000001", "赵六")
    page = new_page()
    log_in(page, server, "clerk3")
    page.goto(server.url + "/counter/3")
    page.click("button:has-text('Open counter')")
    page.wait_for_selector("#queue-panel")

    page.fill(".booking-check-in input[name=code]", code.lower())
    page.click(".booking-check-in button")

    booked = page.locator("#queue-panel .next li", has_text="预约 · booked")
    booked.wait_for()
    assert f"{start:%H:%M}" in booked.inner_text() and booked.inner_text().startswith("Y")
    shot(page, "counter-booked")
    assert page.js_errors == []


def test_the_supervisor_sees_a_check_in_counted_and_opens_one_persons_number(server, new_page):
    start = _next_slot()
    first = _book(server, start, "13900000011", "钱七")
    _book(server, start, "13900000012", "孙八")
    page = new_page()
    log_in(page, server)
    page.goto(server.url + f"/supervisor/bookings?date={start.date().isoformat()}")
    checked_before = int(page.locator('[data-service="A"] .t-checked-in').inner_text())

    page.fill(".booking-check-in input[name=code]", first)
    page.click(".booking-check-in button")
    page.locator(".booking-check-in .checked-in").wait_for()
    counted = "() => document.querySelector('[data-service=\"A\"] .t-checked-in').textContent"
    page.wait_for_function(f"{counted} == '{checked_before + 1}'")
    assert page.locator(".booking-check-in input[name=code]").input_value() == ""

    row = page.locator(f'tr[data-code="{first}"]')
    page.locator('[data-service="A"] summary').click()
    assert "钱七" not in row.inner_text() and "139****0011" in row.inner_text()
    row.locator("button").click()
    row.locator(".person.opened").wait_for()
    assert "钱七 · 13900000011" in row.inner_text()
    shot(page, "supervisor-bookings")
    assert page.js_errors == []
