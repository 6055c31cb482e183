"""The screen above one window (/display/counter/<id>): its number, its name, 暂停服务 when
paused, the clerk's name and staff number, live, and nothing overflowing at 1280x720 or 1920x1080."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from tests.browser.conftest import shot
from tests.live import ROOT, LiveServer, live_server, prepare_database, server_env

pytestmark = pytest.mark.browser

LONG_NAME = "综合服务窗口 12"
CLERK_NAME = "欧阳娜娜 Ouyang Nana"
SETUP = f"""
from kiosk import create_app
from kiosk.extensions import db
from queue_engine.core.models import Counter, User
app = create_app()
with app.app_context():
    db.session.get(Counter, 3).name = {LONG_NAME!r}
    db.session.query(User).filter_by(username="clerk3").one().display_name = {CLERK_NAME!r}
    db.session.commit()
"""

# What overflows its box or the screen, and the size of the number.
MEASURE = """() => {
  const problems = [];
  const view = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  const inside = (a, b) =>
    a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  for (const node of document.querySelectorAll('.w-name, .w-number, .w-state, .w-clerk')) {
    if (!node.textContent.trim()) continue;
    if (node.scrollWidth > node.clientWidth + 1 || node.scrollHeight > node.clientHeight + 1)
      problems.push(node.id + ' overflows: ' + node.textContent);
    const r = node.getBoundingClientRect();
    if (!inside(r, node.parentElement.getBoundingClientRect())) problems.push(node.id + ' outside its box');
    if (!inside(r, view)) problems.push(node.id + ' off the screen');
  }
  const px = id => parseFloat(getComputedStyle(document.getElementById(id)).fontSize);
  return {problems, vmin: Math.min(innerWidth, innerHeight) / 100, number_px: px('w-number'),
          name_px: px('w-name'), clerk_px: px('w-clerk'),
          scroll: document.documentElement.scrollHeight > innerHeight};
}"""


@pytest.fixture(scope="module")
def window_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo hall, counter 3 with a long name and its clerk with a long display name."""
    folder = tmp_path_factory.mktemp("window")
    env = server_env(f"sqlite:///{folder / 'qms.sqlite3'}")
    prepare_database(env)
    subprocess.run(
        [sys.executable, "-c", SETUP], env=env, cwd=ROOT, check=True, capture_output=True, timeout=60
    )
    with live_server(env, prepare=False, log=folder / "server.log") as running:
        yield running


def _measured(screen) -> dict:
    found = screen.evaluate(MEASURE)
    assert found["problems"] == [], found
    assert not found["scroll"]
    # The number is the largest thing on the screen, read from the waiting area.
    assert found["number_px"] >= 20 * found["vmin"], found
    assert found["number_px"] > found["name_px"] and found["number_px"] > found["clerk_px"]
    return found


def test_the_window_screen_follows_its_counter_live(window_server, new_page):
    server = window_server
    clerk = server.token("clerk3")
    screen = new_page(1280, 720)
    screen.goto(server.url + "/display/counter/3")
    screen.locator("body[data-live='yes']").wait_for()
    assert screen.locator("#w-name").inner_text() == LONG_NAME
    assert screen.locator("#w-state").inner_text() == "窗口关闭 · Closed"
    assert screen.locator("#w-clerk").inner_text() == ""

    assert requests.post(server.url + "/api/v1/counters/3/open", headers=clerk, json={}, timeout=5).ok
    screen.wait_for_function("() => document.getElementById('w-clerk').textContent.includes('clerk3')")
    assert screen.locator("#w-clerk").inner_text() == f"{CLERK_NAME} · 工号 Staff No. clerk3"

    # A visit finished with the visitor's name: the name never reaches the screen.
    first = requests.post(server.url + "/api/v1/tickets", json={"service": "A"}, timeout=5).json()
    called = requests.post(server.url + "/api/v1/counters/3/call-next", headers=clerk, timeout=5).json()[
        "ticket"
    ]
    assert called["number"] == first["number"]
    screen.wait_for_function(
        "n => document.getElementById('w-number').textContent === n", arg=called["number"]
    )
    assert "Now serving " + called["number"] in screen.locator("#w-state").inner_text()
    record = {"outcome": "resolved", "customer_name": "张三丰", "contact": "13800001234"}
    finished = requests.post(
        f"{server.url}/api/v1/tickets/{called['token']}/finish", headers=clerk, json=record, timeout=5
    )
    assert finished.status_code == 200, finished.text
    screen.wait_for_function("() => document.getElementById('w-number').textContent === '—'")

    second = requests.post(server.url + "/api/v1/tickets", json={"service": "A"}, timeout=5).json()
    assert requests.post(server.url + "/api/v1/counters/3/call-next", headers=clerk, timeout=5).ok
    screen.wait_for_function(
        "n => document.getElementById('w-number').textContent === n", arg=second["number"]
    )
    _measured(screen)
    shot(screen, "window-screen-1280x720")

    assert requests.post(server.url + "/api/v1/counters/3/pause", headers=clerk, json={}, timeout=5).ok
    screen.locator("#window[data-state='paused']").wait_for()
    assert screen.locator("#w-state").inner_text() == "暂停服务 · Paused"
    _measured(screen)
    text = screen.locator("body").inner_text()
    assert "张三丰" not in text and "13800001234" not in text

    big = new_page(1920, 1080)
    big.goto(server.url + "/display/counter/3")
    big.locator("body[data-live='yes']").wait_for()
    assert big.locator("#w-state").inner_text() == "暂停服务 · Paused"
    assert big.locator("#w-number").inner_text() == second["number"]
    _measured(big)
    shot(big, "window-screen-1920x1080-paused")


def test_an_unknown_window_is_not_found(window_server):
    assert requests.get(window_server.url + "/display/counter/999", timeout=5).status_code == 404
