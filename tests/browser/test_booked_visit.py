"""A booked visit through every screen, in real browsers (issue 14): book on a phone, check in
at the kiosk with the code, called at the counter, shown on the board, rated on the phone."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def test_a_booked_visitor_from_the_booking_to_the_rating(server, new_page):
    board = new_page(1920, 1080)
    board.goto(server.url + "/display")
    board.locator("body[data-live='yes']").wait_for()

    # On the phone: the first time that can still be booked (its check-in opens 30 min before).
    phone = new_page(390, 844, is_mobile=True, has_touch=True)
    phone.goto(server.url + "/book?lang=zh")
    phone.click(".choice")
    phone.locator(".slot:not(.full)").first.click()
    phone.fill("input[name=name]", "孙七")
    phone.fill("input[name=phone]", "13566667777")
    phone.click("button[type=submit]")
    code = phone.locator("#booking-code").inner_text()
    shot(phone, "booked-1-phone-confirmed")

    # At the kiosk: 我有预约, the code on the keys, the booked number printed.
    kiosk = new_page(1080, 1920)
    kiosk.goto(server.url + "/kiosk?lang=zh")
    kiosk.click(".booking-link")
    for char in code:
        kiosk.click(f".key[data-key='{char}']")
    kiosk.click("#checkin-form .go")
    number = kiosk.locator("#ticket-number").inner_text()
    assert number.startswith("YA")
    shot(kiosk, "booked-2-kiosk-ticket")

    # The booking's link now opens the live ticket; counter 3 calls until it reaches it.
    phone.reload()
    phone.wait_for_url("**/t/**")
    token = phone.url.rsplit("/t/", 1)[1].split("?")[0]
    clerk = server.token("clerk3")
    for _ in range(50):
        answer = requests.post(server.url + "/api/v1/counters/3/call-next", headers=clerk, timeout=5)
        assert answer.status_code == 200, answer.text
        called = answer.json()["ticket"]
        if called["token"] == token:
            break
        requests.post(f"{server.url}/api/v1/tickets/{called['token']}/no-show", headers=clerk, timeout=5)
    phone.locator("[data-state='called']").wait_for(state="visible")
    board.wait_for_function(
        "n => document.querySelector(\".counter-tile[data-counter-id='3'] .tile-number\").textContent === n",
        arg=number,
    )
    shot(board, "booked-3-board")

    # Finished; the visitor rates on the phone.
    requests.post(
        f"{server.url}/api/v1/tickets/{token}/finish", headers=clerk, json={"outcome": "resolved"}, timeout=5
    )
    phone.locator("#rating form").wait_for(state="visible")
    phone.click("label.face:has(input[value='5'])")
    phone.click("#rating button[type=submit]")
    phone.locator("#rating .thanks").wait_for()
    shot(phone, "booked-4-phone-rated")
    assert "13566667777" not in phone.content() and "孙七" not in board.content()
    for page in (board, phone, kiosk):
        assert page.js_errors == []
