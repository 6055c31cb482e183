"""The quality loop in real browsers: a bad rating on the counter tablet becomes a
rectification case the supervisor sees appear on /supervisor."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import shot
from tests.browser.test_whole_day import log_in

pytestmark = pytest.mark.browser


def test_a_bad_rating_on_the_tablet_reaches_the_supervisor(server, new_page):
    clerk = server.token("clerk3")
    tablet = new_page(1280, 800)
    tablet.goto(
        server.url + server.flask("register-tablet", "Tablet", "--counter", "3").strip().splitlines()[-1]
    )
    tablet.locator("body[data-live='yes']").wait_for()
    supervisor = new_page(1400, 1000)
    log_in(supervisor, server, "supervisor", "/supervisor")
    before = int(supervisor.locator("#cases-open").inner_text())

    taken = requests.post(server.url + "/api/v1/tickets", json={"service": "B"}, timeout=5).json()
    for _ in range(30):
        called = requests.post(f"{server.url}/api/v1/counters/3/call-next", headers=clerk, timeout=5).json()[
            "ticket"
        ]
        outcome = {"outcome": "resolved"}
        requests.post(
            f"{server.url}/api/v1/tickets/{called['token']}/finish", headers=clerk, json=outcome, timeout=5
        )
        if called["token"] == taken["token"]:
            break
    tablet.locator("#rate[data-state='ask']").wait_for()
    tablet.wait_for_function(
        "n => document.getElementById('rate-number').textContent === n", arg=taken["number"]
    )
    tablet.click(".ask .face[data-score='1']")
    tablet.fill("#rate-comment", "排队太久，窗口人员不耐烦")
    tablet.click("#rate-send")
    tablet.locator("#rate[data-state='thanks']").wait_for()

    # Without a reload, the supervisor's live page lists the new case.
    case = supervisor.locator("#rectification-live li", has_text=taken["number"])
    case.wait_for(timeout=20000)
    assert "非常不满意" in case.inner_text()
    assert int(supervisor.locator("#cases-open").inner_text()) == before + 1
    shot(supervisor, "quality-supervisor-live")
    case.locator("a").click()
    supervisor.wait_for_url("**/quality/*")
    assert "排队太久，窗口人员不耐烦" in supervisor.locator("main").inner_text()
    shot(supervisor, "quality-case")
