"""The counter's rating tablet in a real browser: a device of its own that stores ratings with
no clerk logged in, and never says thanks for a rating it could not store."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def _finish_next(server, counter: int, clerk: dict[str, str]) -> dict:
    taken = requests.post(server.url + "/api/v1/tickets", json={"service": "A"}, timeout=5).json()
    for _ in range(30):
        called = requests.post(f"{server.url}/api/v1/counters/{counter}/call-next", headers=clerk, timeout=5)
        ticket = called.json()["ticket"]
        requests.post(
            f"{server.url}/api/v1/tickets/{ticket['token']}/finish",
            headers=clerk,
            json={"outcome": "resolved"},
            timeout=5,
        )
        if ticket["token"] == taken["token"]:
            return taken
    raise AssertionError("the ticket taken was never called")


def _stored(server, ticket: dict) -> list[tuple[int, str]]:
    """The ratings stored for a ticket's visit (level, channel), read from the ratings export."""
    export = requests.get(server.url + "/api/v1/ratings", headers=server.token("supervisor"), timeout=10)
    assert export.status_code == 200, export.text
    return [
        (r["level"], r["channel"])
        for r in export.json()["ratings"]
        if r["visit_number"].endswith(ticket["number"])
    ]


def test_a_rating_on_the_tablet_is_stored_with_no_clerk_session(server, new_page):
    address = server.flask("register-tablet", "Window 2", "--counter", "2").strip().splitlines()[-1]
    clerk = server.token("clerk2")
    tablet = new_page(1280, 800)
    tablet.goto(server.url + address)
    tablet.locator("body[data-live='yes']").wait_for()
    assert tablet.locator("#rate").get_attribute("data-state") == "idle"

    ticket = _finish_next(server, 2, clerk)
    tablet.wait_for_function(
        "n => document.getElementById('rate-number').textContent === n", arg=ticket["number"]
    )
    # Whatever session the tablet's browser had is gone (the clerk's lapsed long ago).
    tablet.context.clear_cookies()
    tablet.click(".ask .face[data-score='5']")
    tablet.click("#rate-send")
    tablet.locator("#rate[data-state='thanks']").wait_for()
    assert _stored(server, ticket) == [(5, "tablet")]
    shot(tablet, "tablet-thanks")


def test_the_tablet_says_what_went_wrong_and_retries_until_the_rating_is_stored(server, new_page):
    address = server.flask("register-tablet", "Window 1", "--counter", "1").strip().splitlines()[-1]
    clerk = server.token("clerk1")
    tablet = new_page(1280, 800)
    tablet.goto(server.url + address)
    tablet.locator("body[data-live='yes']").wait_for()
    ticket = _finish_next(server, 1, clerk)
    tablet.wait_for_function(
        "n => document.getElementById('rate-number').textContent === n", arg=ticket["number"]
    )

    tablet.route("**/api/v1/tablets/**", lambda route: route.abort())  # the network is down
    tablet.click(".ask .face[data-score='2']")
    tablet.click("#rate-send")
    tablet.locator("#rate[data-state='failed']").wait_for()
    problem = tablet.locator("#rate-problem").inner_text()
    assert "评价尚未保存" in problem and "not saved" in problem
    assert _stored(server, ticket) == []
    shot(tablet, "tablet-not-saved")

    tablet.unroute("**/api/v1/tablets/**")  # back: the tablet tries again by itself
    tablet.locator("#rate[data-state='thanks']").wait_for(timeout=15000)
    assert _stored(server, ticket) == [(2, "tablet")]
