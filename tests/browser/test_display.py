"""The hall board in a real chromium: live calls, announcements, areas, reconnection, privacy."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def take(server, service="A"):
    return requests.post(server.url + "/api/v1/tickets", json={"service": service}, timeout=5).json()


def call_next(server, counter, headers):
    answer = requests.post(f"{server.url}/api/v1/counters/{counter}/call-next", headers=headers, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["ticket"]


def finish(server, ticket, headers, **record):
    answer = requests.post(
        f"{server.url}/api/v1/tickets/{ticket['token']}/finish",
        headers=headers,
        json={"outcome": "resolved", **record},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text


def open_board(new_page, server, path="/display", size=(1920, 1080)):
    """A board page, once its live link has joined (calls made before that are not announced)."""
    board = new_page(*size)
    board.goto(server.url + path)
    board.locator("body[data-live='yes']").wait_for()
    return board


def announced(page):
    return page.evaluate("window.QMS_ANNOUNCED.slice()")


def test_a_call_appears_and_is_announced_without_reload_and_a_recall_announces_again(server, new_page):
    clerk = server.token("clerk3")
    board = open_board(new_page, server)
    board.evaluate("window.__sameDocument = true")
    take(server, "A")
    ticket = call_next(server, 3, clerk)
    tile = board.locator(".counter-tile[data-counter-id='3'] .tile-number")
    board.wait_for_function(
        "n => document.querySelector(\".counter-tile[data-counter-id='3'] .tile-number\").textContent === n",
        arg=ticket["number"],
    )
    assert tile.inner_text() == ticket["number"]
    assert ticket["number"] in board.locator("#recent").inner_text()
    board.wait_for_function("n => window.QMS_ANNOUNCED.some(t => t.includes(n))", arg=ticket["number"])
    spoken = [t for t in announced(board) if ticket["number"] in t]
    assert spoken == [
        f"请 {ticket['number']} 号到 3 号窗口办理 / Number {ticket['number']}, please go to counter 3"
    ]
    assert ticket["number"] in board.locator("#announcement").inner_text()  # the aria-live region
    shot(board, "display-call-1920x1080")

    assert requests.post(f"{server.url}/api/v1/tickets/{ticket['token']}/recall", headers=clerk, timeout=5).ok
    board.wait_for_function(
        "n => window.QMS_ANNOUNCED.filter(t => t.includes(n)).length === 2", arg=ticket["number"]
    )
    assert board.evaluate("window.__sameDocument") is True
    finish(server, ticket, clerk)


def test_simultaneous_calls_are_announced_one_after_another(server, new_page):
    clerks = {1: server.token("clerk1"), 2: server.token("clerk2")}
    board = open_board(new_page, server)
    board.evaluate(
        """() => { window.__banners = []; new MutationObserver(() => {
             window.__banners.push(document.getElementById('announcement').textContent);
           }).observe(document.getElementById('announcement'), {childList: true}); }"""
    )
    take(server, "B")
    take(server, "B")
    first = call_next(server, 1, clerks[1])
    second = call_next(server, 2, clerks[2])
    board.wait_for_function(
        "ns => ns.every(n => window.QMS_ANNOUNCED.some(t => t.includes(n)))",
        arg=[first["number"], second["number"]],
        timeout=20000,
    )
    texts = announced(board)
    order = [next(i for i, t in enumerate(texts) if n in t) for n in (first["number"], second["number"])]
    assert order[0] < order[1]
    # The banner showed one call at a time: never both numbers at once.
    banners = board.evaluate("window.__banners")
    assert not any(first["number"] in b and second["number"] in b for b in banners)
    for counter, ticket in ((1, first), (2, second)):
        finish(server, ticket, clerks[counter])


def test_a_board_for_one_area_shows_and_announces_only_that_area(server, new_page):
    clerk4 = server.token("clerk4")
    clerk3 = server.token("clerk3")
    board = open_board(new_page, server, "/display?counters=4", (1080, 1920))
    assert board.locator(".counter-tile").count() == 1
    take(server, "A")
    other = call_next(server, 3, clerk3)
    take(server, "C")
    mine = call_next(server, 4, clerk4)
    board.wait_for_function("n => window.QMS_ANNOUNCED.some(t => t.includes(n))", arg=mine["number"])
    assert not any(other["number"] in t for t in announced(board))
    assert other["number"] not in board.locator("body").inner_text()
    shot(board, "display-area-portrait")
    finish(server, mine, clerk4, department="督查科")  # a complaint (C) needs its department
    finish(server, other, clerk3)


def test_the_board_shows_no_personal_data(server, new_page):
    clerk = server.token("clerk1")
    take(server, "D")
    ticket = call_next(server, 1, clerk)
    finish(server, ticket, clerk, customer_name="赵秘密", contact="13800138000", description="私人事项")
    board = new_page(1920, 1080)
    board.goto(server.url + "/display")
    board.wait_for_timeout(300)
    html = board.content()
    api = requests.get(server.url + "/api/v1/display", timeout=5).text
    for secret in ("赵秘密", "13800138000", "私人事项"):
        assert secret not in html
        assert secret not in api


def test_the_board_recovers_by_itself_after_a_server_restart(server, new_page):
    clerk = server.token("clerk2")
    board = open_board(new_page, server)
    server.restart(pause_s=1.0)
    take(server, "B")
    ticket = call_next(server, 2, clerk)
    board.wait_for_function(
        "n => document.querySelector(\".counter-tile[data-counter-id='2'] .tile-number\").textContent === n",
        arg=ticket["number"],
        timeout=20000,
    )
    board.locator("#link-state").wait_for(state="hidden")
    finish(server, ticket, clerk)


def test_a_board_for_some_counters_lists_only_their_queues(server, new_page):
    board = new_page(1080, 1920)
    board.goto(server.url + "/display?counters=4")  # counter 4 serves C and D only
    codes = board.locator("#waiting .waiting-code").all_inner_texts()
    assert codes == ["C", "D"]


def test_the_next_line_names_the_number_to_get_ready_and_follows_the_calls(server, new_page):
    clerk = server.token("clerk3")  # counter 3 serves A and B; nobody else waits for them now
    board = open_board(new_page, server, "/display?services=B")
    first, second = take(server, "B"), take(server, "B")

    def line_shows(number):
        board.wait_for_function(
            "n => document.getElementById('next-line').innerText.includes(n)", arg=f"请 {number} 号准备"
        )
        text = board.locator("#next-line").inner_text()
        assert f"Next: {number}" in text and board.locator("#next-line").is_visible(), text

    line_shows(first["number"])
    shot(board, "display-next-line")
    called = call_next(server, 3, clerk)
    assert called["number"] == first["number"]  # the number the board told to get ready
    line_shows(second["number"])  # the line moves on with the call, without a reload
    assert first["number"] not in board.locator("#next-line").inner_text()
    finish(server, called, clerk)
    finish(server, call_next(server, 3, clerk), clerk)
