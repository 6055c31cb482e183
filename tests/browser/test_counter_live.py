"""The counter workspace stays true to its counter when it changes elsewhere (the API, another
tab, the supervisor), and its keys say what they do: F, N while paused, T."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import shot
from tests.browser.test_whole_day import log_in, settled

pytestmark = pytest.mark.browser


def _post(server, path: str, headers: dict[str, str], **body: object) -> requests.Response:
    return requests.post(server.url + "/api/v1" + path, headers=headers, json=body or None, timeout=5)


def test_the_workspace_follows_its_counter_changed_elsewhere(server, new_page):
    clerk_api = server.token("clerk1")
    supervisor_api = server.token("supervisor")
    clerk = new_page(1400, 900)
    log_in(clerk, server, "clerk1", "/counter/1")
    clerk.click("#open-counter")
    clerk.locator("#workspace").wait_for()
    clerk.locator("body[data-live='yes']").wait_for()
    settled(clerk)
    clerk.evaluate("() => { window.notReloaded = true; }")

    # A call made through the API shows at once, with no reload.
    taken = _post(server, "/tickets", {}, service="A").json()
    called = _post(server, "/counters/1/call-next", clerk_api)
    assert called.status_code == 200, called.text
    number = called.json()["ticket"]["number"]
    clerk.wait_for_function("n => document.getElementById('current-number')?.textContent === n", arg=number)
    assert taken["number"] == number

    # F opens the record form and puts the cursor in its first field.
    settled(clerk)
    clerk.keyboard.press("f")
    clerk.locator("#record-form").wait_for()
    clerk.wait_for_function("() => document.activeElement?.closest('#record-form') !== null")
    clerk.click("#record-form button:has-text('Cancel')")

    # T asks first, naming the service; declining transfers nothing.
    questions: list[str] = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    clerk.on("dialog", dismiss)
    label = clerk.locator("form.transfer select option").first.get_attribute("data-label")
    clerk.keyboard.press("t")
    clerk.wait_for_function("() => true")
    clerk.wait_for_timeout(300)  # nothing to wait for: the answer is that nothing happens
    assert questions and label in questions[0] and number in questions[0]
    assert clerk.locator("#current-number").inner_text() == number
    clerk.remove_listener("dialog", dismiss)
    clerk.once("dialog", lambda dialog: dialog.accept())
    clerk.keyboard.press("t")
    clerk.locator("#current .cur-number.idle").wait_for()
    # The transferred ticket is marked in the Next list, with the service it came from.
    marked = clerk.locator("#queue-panel .next li", has_text=number)
    marked.locator(".tag.transferred").wait_for()
    assert "转 · transferred from A" in marked.inner_text()
    shot(clerk, "counter-transferred-marker")

    # Paused through the API: the workspace says so, and N says why nothing happens.
    assert _post(server, "/counters/1/pause", clerk_api).status_code == 200
    clerk.locator("#workspace[data-state='paused']").wait_for()
    settled(clerk)
    clerk.keyboard.press("n")
    toast = clerk.locator("#toast.show")
    toast.wait_for()
    assert "暂停服务" in toast.inner_text() and "paused" in toast.inner_text()
    shot(clerk, "counter-paused-n")
    assert _post(server, "/counters/1/resume", clerk_api).status_code == 200
    clerk.locator("#workspace[data-state='open']").wait_for()
    assert clerk.evaluate("() => window.notReloaded === true")

    # The supervisor closes the counter: the clerk's page turns to the opening screen.
    closed = _post(server, "/counters/1/close", supervisor_api, handover_note="closed by the supervisor")
    assert closed.status_code == 200, closed.text
    clerk.locator("#open-counter").wait_for()
    assert clerk.locator("#workspace").count() == 0


def test_a_change_signalled_while_the_list_is_refreshing_still_shows(server, new_page):
    """The waiting list is redrawn on every change; a change signalled while the previous redraw
    is still on its way (a slow network, a busy server) must show too, not wait for the 30 s poll
    (htmx drops such a trigger by default: the clerk missed a booking just checked in)."""
    clerk = new_page(1400, 900)
    log_in(clerk, server, "clerk2", "/counter/2")
    clerk.click("#open-counter")
    clerk.locator("#queue-panel").wait_for()
    clerk.locator("body[data-live='yes']").wait_for()
    settled(clerk)

    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
            return
        held.append((route, route.fetch()))  # the list as it is now, answered only when released

    clerk.route("**/counter/2/panel*", hold_the_first)
    first = _post(server, "/tickets", {}, service="D").json()
    for _ in range(100):
        if held:
            break
        clerk.wait_for_timeout(100)
    assert held, "the first change did not redraw the list"
    second = _post(server, "/tickets", {}, service="D").json()
    clerk.wait_for_timeout(1000)  # the second change's signal reaches the page meanwhile
    route, stale = held[0]
    try:
        route.fulfill(response=stale)
    except Exception:  # noqa: BLE001 - the page gave up on that request for a newer one
        pass
    for number in (first["number"], second["number"]):
        clerk.locator("#queue-panel .next li", has_text=number).wait_for(timeout=10_000)
    assert clerk.js_errors == []
