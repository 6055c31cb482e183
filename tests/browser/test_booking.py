"""Booking on a phone (390×844) in a real chromium: choose a time, book, see the code, in both languages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser

FITS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('.slot, .day, .choice, button, .field input')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    const name = el.outerHTML.slice(0, 80);
    const scroller = el.closest('.days');  // the day strip scrolls on its own
    if (!scroller && (r.right > innerWidth + 0.5 || r.left < -0.5)) out.push('outside: ' + name);
    if (!el.classList.contains('day') && r.height < 44) out.push('too small: ' + name + ' ' + r.height);
    if (el.scrollWidth > el.clientWidth + 1) out.push('text cut: ' + el.textContent.trim());
  }
  if (document.documentElement.scrollWidth > innerWidth) out.push('page scrolls sideways');
  return out;
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_visitor_books_a_time_on_the_phone_and_gets_the_code(server, new_page, lang):
    page = new_page(390, 844)
    page.goto(f"{server.url}/book?lang={lang}")
    page.click(".choice")
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    shot(page, f"booking-slots-{lang}")
    assert page.evaluate(FITS) == []
    page.locator(".slot:not(.full)").last.click()
    page.fill("input[name=name]", "王五" if lang == "zh" else "Wang Wu")
    page.fill("input[name=phone]", "139 0000 1111" if lang == "zh" else "+44 7700 900123")
    page.click("button[type=submit]")

    page.wait_for_selector("#booking-code")
    code = page.inner_text("#booking-code")
    assert len(code) == 6 and not set(code) & set("0O1I")
    assert page.inner_text(".status") == ("已预约" if lang == "zh" else "Booked")
    assert ("139****1111" if lang == "zh" else "+44****0123") in page.inner_text("main")
    page.wait_for_load_state("load")  # its style sheet and fonts in: measure what the visitor sees
    page.evaluate("document.fonts.ready")
    assert page.evaluate(FITS) == []
    shot(page, f"booking-confirmed-{lang}")
    assert page.js_errors == []


def test_a_visitor_checks_in_at_the_kiosk_by_touching_the_code_on_its_keys(server, new_page):
    day = {"date": _today()}
    slots = requests.get(f"{server.url}/api/v1/services/A/slots", params=day, timeout=10).json()
    start = next(s["start"] for s in slots if s["open"])  # the next slot: its check-in is open now
    booking = requests.post(
        f"{server.url}/api/v1/appointments",
        json={"service": "A", "start": start, "name": "赵六", "phone": "13700001111"},
        timeout=10,
    ).json()
    page = new_page(1080, 1920)
    page.goto(f"{server.url}/kiosk?lang=zh")

    page.click(".booking-link")
    page.wait_for_selector("#checkin-code")
    shot(page, "kiosk-checkin-zh")
    keys = page.evaluate(KEYS_FIT)
    for char in booking["code"]:
        page.click(f".key[data-key='{char}']")
    page.click("#checkin-form .go")

    page.wait_for_selector("#ticket-number")
    assert page.inner_text("#ticket-number").startswith("YA")
    assert keys == []
    assert page.js_errors == []


KEYS_FIT = """() => {
  const out = [];
  for (const el of document.querySelectorAll('.kiosk-checkin button, #checkin-code')) {
    const r = el.getBoundingClientRect();
    if (r.bottom > innerHeight || r.right > innerWidth) out.push('outside: ' + el.textContent);
    if (r.height < 0.08 * Math.min(innerWidth, innerHeight)) out.push('too small: ' + el.textContent);
  }
  return out;
}"""


def _today() -> str:
    """Today in the hall's timezone (the live server runs on the real clock)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
