"""A whole visit through every screen, in real browsers: kiosk, counter, board, rating tablet,
and the supervisor who then sees the visit, the rating and the complaint."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot
from tests.live import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def settled(page):
    """Wait until htmx has finished every swap (new buttons are live only once it has)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def log_in(page, server, username, next_path):
    page.goto(f"{server.url}/login?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def test_a_whole_day_at_the_hall(server, new_page):
    # The board and the rating tablet are on before the first visitor comes.
    board = new_page(1920, 1080)
    board.goto(server.url + "/display")
    tablet = new_page(1280, 800)
    tablet.goto(
        server.url + server.flask("register-tablet", "Tablet", "--counter", "4").strip().splitlines()[-1]
    )
    assert tablet.locator("#rate").get_attribute("data-state") == "idle"
    for screen in (board, tablet):
        screen.locator("body[data-live='yes']").wait_for()

    # A visitor takes a complaint ticket at the kiosk.
    kiosk = new_page(1080, 1920)
    kiosk.goto(server.url + "/kiosk")
    kiosk.click(".service[data-service='C']")
    number = kiosk.locator("#ticket-number").inner_text()
    shot(kiosk, "day-1-kiosk")

    # The clerk opens counter 4 and calls next with the keyboard.
    clerk = new_page(1400, 900)
    log_in(clerk, server, "clerk4", "/counter")
    clerk.goto(server.url + "/counter/4")
    clerk.click("#open-counter")
    clerk.locator("#workspace").wait_for()
    clerk.wait_for_function("() => window.htmx !== undefined")
    settled(clerk)
    clerk.keyboard.press("n")
    clerk.wait_for_function("n => document.getElementById('current-number')?.textContent === n", arg=number)
    shot(clerk, "day-2-counter-called")

    # The board shows and announces the call.
    board.wait_for_function(
        "n => document.querySelector(\".counter-tile[data-counter-id='4'] .tile-number\").textContent === n",
        arg=number,
    )
    board.wait_for_function("n => window.QMS_ANNOUNCED.some(t => t.includes(n))", arg=number)
    shot(board, "day-3-board")

    # The clerk starts, then finishes with the record; a complaint needs its department.
    settled(clerk)
    clerk.keyboard.press("s")
    clerk.locator(".cur-status.status-serving").wait_for()
    settled(clerk)
    clerk.keyboard.press("f")
    try:
        clerk.locator("#record-form").wait_for(timeout=5000)
    except Exception:
        shot(clerk, "debug-finish")
        raise
    clerk.fill("input[name=customer_name]", "钱女士")
    clerk.fill("input[name=contact]", "13912345678")
    clerk.fill("textarea[name=description]", "对办理时限不满意")
    clerk.click("#finish-submit")
    error = clerk.locator(".field-error")
    error.wait_for()
    assert "department" in error.inner_text()
    assert clerk.input_value("input[name=customer_name]") == "钱女士"  # nothing typed is lost
    clerk.fill("input[name=department]", "综合受理科")
    clerk.click("#finish-submit")
    clerk.locator(".flash-ok", has_text=f"{number} 办结").wait_for()
    assert clerk.locator("#current-number").count() == 0
    shot(clerk, "day-4-counter-finished")

    # The tablet asks for the rating; the visitor touches 满意 (4), then one dimension.
    tablet.locator("#rate[data-state='ask']").wait_for()
    assert tablet.locator("#rate-number").inner_text() == number
    shot(tablet, "day-5-tablet-ask")
    tablet.click(".ask .face[data-score='4']")
    tablet.click(".dim[data-dim='attitude'] .mini[data-score='5']")
    shot(tablet, "day-6-tablet-more")
    tablet.click("#rate-send")
    tablet.locator("#rate[data-state='thanks']").wait_for()

    # The supervisor sees the visit with its rating, and the complaint.
    supervisor = new_page(1400, 900)
    log_in(supervisor, server, "supervisor", "/visits")
    row = supervisor.locator("#visits tbody tr", has_text=number)
    row.wait_for()
    assert "钱**" in row.inner_text()  # the list masks the name; the audited export has it whole
    assert "4/5" in row.locator(".rating").inner_text()
    shot(supervisor, "day-7-supervisor-visits")
    supervisor.goto(server.url + "/complaints")
    complaint = supervisor.locator("#complaints tbody tr", has_text=number)
    assert complaint.count() == 1
    assert complaint.locator("input[name=department]").input_value() == "综合受理科"
    shot(supervisor, "day-8-supervisor-complaints")

    # Another clerk never sees this visitor's data.
    other = new_page(1400, 900)
    log_in(other, server, "clerk1", "/visits")
    assert "钱**" not in other.content()
    for page in (board, tablet, kiosk, clerk, supervisor):
        assert page.js_errors == []
