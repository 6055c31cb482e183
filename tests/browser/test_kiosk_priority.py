"""The kiosk's priority choice (老年人 / 残疾人 / 孕妇), at 1080×1920, and the place it gives."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import create_engine, update

from queue_engine.core.models import Hall
from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def set_policy(server, policy: str) -> None:
    engine = create_engine(server.env["QMS_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(update(Hall).values(priority_policy=policy))
    engine.dispose()


def test_a_priority_visitor_is_told_the_place_the_policy_gives_and_is_called_first(server, new_page):
    set_policy(server, "priority_first")
    for _ in range(4):
        taken = requests.post(server.url + "/api/v1/tickets", json={"service": "D"}, timeout=5)
        assert taken.status_code == 201
    page = new_page(1080, 1920)
    page.goto(server.url + "/kiosk")
    choice = page.locator("#priority-choice")
    box = choice.bounding_box()
    assert "老年人 / 残疾人 / 孕妇" in choice.inner_text() and "Priority" in choice.inner_text()
    assert box and box["height"] >= 96 and box["width"] >= 500  # touch-sized at 1080×1920

    choice.click()
    shot(page, "kiosk-priority-chosen-portrait-zh")
    page.click(".service[data-service='D']")
    page.locator("#ticket-screen").wait_for()
    shot(page, "kiosk-priority-ticket-portrait-zh")

    number = page.locator("#ticket-number").inner_text()
    assert page.locator("#priority-mark").count() == 1
    assert "4" not in page.locator(".queue-line .ahead").inner_text()  # not "4 ahead": it is called first
    url = server.url + "/api/v1/counters/4/call-next"
    called = requests.post(url, headers=server.token("clerk4"), timeout=5)
    assert called.json()["ticket"]["number"] == number


def test_the_choice_is_hidden_when_the_hall_uses_no_priority(server, new_page):
    set_policy(server, "strict")
    page = new_page(1080, 1920)
    page.goto(server.url + "/kiosk?lang=en")
    page.locator("#services .service").first.wait_for()

    assert page.locator("#priority-choice").count() == 0
