"""The visitor's phone page live: one touch turns the sound on, the numbers called follow the hall."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def take(server, code: str) -> dict:
    answer = requests.post(server.url + "/api/v1/tickets", json={"service": code}, timeout=5)
    assert answer.status_code == 201
    return answer.json()


def test_the_phone_page_turns_the_sound_on_and_follows_the_numbers_called(server, new_page):
    first, mine = take(server, "D"), take(server, "D")
    page = new_page(390, 844, is_mobile=True, has_touch=True)
    page.goto(f"{server.url}/t/{mine['token']}")
    assert page.locator(".almost").is_visible()  # 1 ahead
    hint = page.locator("#sound-on")
    assert hint.is_visible()

    hint.click()
    assert hint.is_hidden()
    page.wait_for_function("() => document.querySelector('#link-state').hidden")  # live link up
    called = requests.post(
        server.url + "/api/v1/counters/4/call-next", headers=server.token("clerk4"), timeout=5
    )
    assert called.json()["ticket"]["number"] == first["number"]

    page.locator("#calls-now .call-number", has_text=first["number"]).wait_for(timeout=10_000)
    shot(page, "phone-waiting-calls-now-zh")
    assert page.locator(".ahead").inner_text() == "下一位就是您"
