"""The kiosk and the visitor's phone page, as a visitor meets them in a real chromium."""

from __future__ import annotations

import io
import re

import pytest
import requests
import zxingcpp
from PIL import Image

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")


def waiting_count(server, code: str) -> int:
    services = requests.get(server.url + "/api/v1/services", timeout=5).json()
    return next(s["waiting"] for s in services if s["code"] == code)


def test_touch_shows_the_ticket_and_its_qr_opens_that_ticket(server, new_page):
    page = new_page(1080, 1920)
    page.goto(server.url + "/kiosk")
    page.click(".service[data-service='A']")
    number = page.locator("#ticket-number").inner_text()
    assert re.fullmatch(r"A\d{3}", number)
    shot(page, "kiosk-ticket-portrait-zh")

    image = Image.open(io.BytesIO(page.locator(".qr-block .qr").screenshot()))
    decoded = zxingcpp.read_barcodes(image)
    assert decoded, "the QR code on the ticket screen does not decode"
    url = decoded[0].text
    assert url.startswith(server.url + "/t/")
    ticket = requests.get(server.url + "/api/v1/tickets/" + url.rsplit("/", 1)[1], timeout=5).json()
    assert ticket["number"] == number
    assert ticket["status"] == "waiting"


def test_the_kiosk_goes_back_to_the_services_after_a_touch_on_done(server, new_page):
    page = new_page(1920, 1080)
    page.goto(server.url + "/kiosk?lang=en")
    page.click(".service[data-service='B']")
    page.locator("#ticket-screen").wait_for()
    shot(page, "kiosk-ticket-landscape-en")
    page.click("#ticket-screen .done")
    page.locator("#services .service").first.wait_for()
    assert page.locator("#ticket-screen").count() == 0


def test_a_double_touch_issues_one_ticket(server, new_page):
    page = new_page(1080, 1920)
    page.goto(server.url + "/kiosk")
    before = waiting_count(server, "C")
    # Two touches as fast as a finger can bounce: dispatched in the same task, before any answer.
    page.evaluate(
        """() => { const b = document.querySelector(".service[data-service='C']");
                   b.click(); b.click(); }"""
    )
    page.locator("#ticket-screen").wait_for()
    page.wait_for_timeout(500)
    assert waiting_count(server, "C") == before + 1


def test_the_same_screen_posting_twice_gets_the_same_ticket(server, new_page):
    # The server side of the same promise: a repeated POST carrying the screen's key.
    page = new_page(1080, 1920)
    page.goto(server.url + "/kiosk")
    before = waiting_count(server, "D")
    numbers = page.evaluate(
        """async () => {
             const button = document.querySelector(".service[data-service='D']");
             const values = JSON.parse(button.getAttribute("hx-vals"));
             const token = document.querySelector("meta[name=csrf-token]").content;
             const post = () => fetch("/kiosk/tickets", {method: "POST",
               headers: {"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded"},
               body: new URLSearchParams(values)}).then(r => r.text());
             const pages = await Promise.all([post(), post()]);
             return pages.map(html => html.match(/id="ticket-number">([^<]+)</)[1]);
           }"""
    )
    assert numbers[0] == numbers[1]
    assert waiting_count(server, "D") == before + 1


def test_the_language_switch_changes_every_visible_string(server, new_page):
    page = new_page(1080, 1920)
    page.goto(server.url + "/kiosk")
    chinese = page.locator("body").inner_text()
    page.click("a.lang[lang='en']")
    page.wait_for_url("**lang=en**")
    english = page.locator("body").inner_text()
    shot(page, "kiosk-services-en")
    # In English nothing Chinese is left but the name of the other language itself.
    assert CJK.findall(english.replace("中文", "")) == []
    # In Chinese, the only Latin words are the other language's name and the ticket prefixes.
    latin_words = set(re.findall(r"[A-Za-z]{2,}", chinese))
    assert latin_words <= {"English"}
    page.click(".service[data-service='A']")
    ticket_text = page.locator("#ticket-screen").inner_text()
    assert CJK.findall(ticket_text) == []
    assert "ahead" in ticket_text or "next" in ticket_text


def test_the_phone_page_follows_the_ticket_live_until_called(server, new_page):
    clerk = server.token("clerk2")
    taken = requests.post(
        server.url + "/api/v1/tickets", json={"service": "A", "lang": "zh"}, timeout=5
    ).json()
    phone = new_page(390, 844, is_mobile=True, has_touch=True)
    phone.goto(server.url + "/t/" + taken["token"])
    phone.evaluate("window.__sameDocument = true")
    assert phone.locator("#ticket-page").get_attribute("data-status") == "waiting"
    shot(phone, "phone-waiting-zh")

    # Counter 2 calls until it reaches this ticket (earlier tickets are marked no-show).
    for _ in range(50):
        answer = requests.post(server.url + "/api/v1/counters/2/call-next", headers=clerk, timeout=5)
        assert answer.status_code == 200, answer.text
        called = answer.json()["ticket"]
        if called["token"] == taken["token"]:
            break
        requests.post(f"{server.url}/api/v1/tickets/{called['token']}/no-show", headers=clerk, timeout=5)
    called_panel = phone.locator("[data-state='called']")
    called_panel.wait_for(state="visible")
    assert "请到 2 号窗口" in called_panel.inner_text()
    assert phone.evaluate("window.__sameDocument") is True  # no reload happened
    shot(phone, "phone-called-zh")

    requests.post(
        f"{server.url}/api/v1/tickets/{taken['token']}/finish",
        headers=clerk,
        json={"outcome": "resolved", "customer_name": "王小明"},
        timeout=5,
    )
    phone.locator("#rating form").wait_for(state="visible")
    assert "王小明" not in phone.content()
    phone.click("label.face:has(input[value='4'])")
    phone.click("#rating button[type=submit]")
    phone.locator("#rating .thanks").wait_for()
    shot(phone, "phone-rated-zh")
    again = requests.post(
        f"{server.url}/api/v1/tickets/{taken['token']}/rating", json={"score": 5}, timeout=5
    )
    assert again.status_code == 409
    assert phone.js_errors == []


def test_an_unknown_ticket_gets_a_friendly_page(server, new_page):
    phone = new_page(390, 844)
    response = phone.goto(server.url + "/t/no-such-ticket?lang=en")
    assert response.status == 404
    assert "cannot find this ticket" in phone.locator("body").inner_text()
    assert "Traceback" not in phone.content()


def test_the_kiosk_asks_visitors_to_see_the_desk_while_the_server_is_down_and_recovers(server, new_page):
    page = new_page(1080, 1920)
    page.goto(server.url + "/kiosk?lang=en")
    server.stop()
    try:
        # The kiosk notices by itself (its live link drops), before any visitor touches it.
        page.locator("#offline").wait_for(state="visible", timeout=15000)
        assert "Please ask at the desk" in page.locator("#offline").inner_text()
        shot(page, "kiosk-offline-en")
    finally:
        server.start()
    page.locator("#offline").wait_for(state="hidden", timeout=20000)
    page.locator("#services .service").first.wait_for()
    page.click(".service[data-service='A']")
    page.locator("#ticket-number").wait_for()
