"""The counter workspace at a real hall's size (issue 13): counter 1 of the large hall (a
综合窗口 serving most of its 12 services) with a queue, at 1366×768 and 1920×1080 — nothing
overflows its box, the page never scrolls sideways, every button is a comfortable target."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from tests.browser.conftest import shot
from tests.browser.test_whole_day import log_in, settled
from tests.live import ROOT, LiveServer, live_server, server_env

pytestmark = pytest.mark.browser

MEASURE = """() => {
  const problems = [];
  for (const el of document.querySelectorAll('#workspace *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || getComputedStyle(el).overflow !== 'visible') continue;
    if (r.right > innerWidth + 1) problems.push('off the screen: ' + el.outerHTML.slice(0, 80));
    if (['BUTTON', 'A'].includes(el.tagName) && el.offsetParent && r.height < 28)
      problems.push('small target: ' + el.textContent.trim().slice(0, 40) + ' ' + r.height);
    if (['BUTTON', 'SPAN', 'P', 'LI', 'H2', 'H3'].includes(el.tagName) && el.scrollWidth > el.clientWidth + 2
        && getComputedStyle(el).display !== 'inline')
      problems.push('text cut: ' + el.textContent.trim().slice(0, 40));
  }
  if (document.documentElement.scrollWidth > innerWidth + 1) problems.push('page scrolls sideways');
  return {problems, next: document.querySelectorAll('#workspace .queue li .num, .queue li .num').length};
}"""


@pytest.fixture(scope="module")
def large_hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("counter-large")
    env = server_env(f"sqlite:///{folder / 'qms.sqlite3'}")
    for command in (["init-db"], ["seed-demo", "--size", "large"]):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "kiosk", *command],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
    with live_server(env, prepare=False, log=folder / "server.log") as server:
        services = requests.get(f"{server.url}/api/v1/services", timeout=10).json()
        for n in range(24):
            code = services[n % len(services)]["code"]
            requests.post(f"{server.url}/api/v1/tickets", json={"service": code}, timeout=10)
        yield server


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=["1366x768", "1920x1080"])
def test_the_workspace_of_a_large_halls_general_window_fits(large_hall, new_page, size):
    clerk = new_page(*size)
    log_in(clerk, large_hall, "clerk1", "/counter/1")
    if clerk.locator("#open-counter").count():
        clerk.click("#open-counter")
    clerk.locator("#workspace").wait_for()
    settled(clerk)
    clerk.keyboard.press("n")
    clerk.locator("#current-number").wait_for()
    settled(clerk)

    found = clerk.evaluate(MEASURE)
    shot(clerk, f"counter-large-{size[0]}x{size[1]}")
    clerk.keyboard.press("x")  # the next size starts from a free counter
    settled(clerk)

    assert found["problems"] == []
    assert clerk.js_errors == []
