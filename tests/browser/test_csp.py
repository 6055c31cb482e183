"""Every page under the Content-Security-Policy in a real chromium: no violation, no error.

The policy allows no inline script: a page that still had one (or an onclick=) would log a
"Refused to execute inline ..." error here and lose that behaviour for real users.
"""

from __future__ import annotations

import re

import pytest
import requests

from tests.live import DEMO_PASSWORD

pytestmark = pytest.mark.browser

VISITOR_PAGES = ["/", "/login", "/kiosk", "/display", "/t/{token}"]
STAFF_PAGES = [
    "/counter",
    "/counter/1",
    "/supervisor",
    "/supervisor/reports",
    "/supervisor/reports/print",
    "/supervisor/staffing",
    "/visits",
    "/quality",
    "/admin",
    "/admin/services",
    "/admin/counters",
    "/admin/staff",
    "/admin/hall",
    "/admin/config",
    "/admin/audit",
    "/admin/kiosks",
]


def _watch(page) -> list[str]:
    problems: list[str] = []

    def seen(message) -> None:
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # the hall has no icon; chromium asks for one anyway
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", seen)
    return problems


def _visit(page, url: str, problems: list[str]) -> None:
    answer = page.goto(url)
    assert answer is not None and answer.status < 400, (url, answer and answer.status)
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # late scripts (sockets, htmx loads) have had their turn
    assert problems == [], (url, problems)
    assert page.js_errors == [], (url, page.js_errors)


def test_visitor_pages_run_under_the_policy(server, new_page):
    token = requests.post(f"{server.url}/api/v1/tickets", json={"service": "A"}, timeout=10).json()["token"]
    page = new_page()
    problems = _watch(page)
    for path in VISITOR_PAGES:
        _visit(page, server.url + path.format(token=token), problems)


def test_staff_pages_run_under_the_policy(server, new_page):
    page = new_page(1440, 1000)
    problems = _watch(page)
    page.goto(f"{server.url}/login?next=/admin")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin$"))
    for path in STAFF_PAGES:
        _visit(page, server.url + path, problems)
    # The buttons that were inline handlers still work: the print page's button prints.
    page.goto(f"{server.url}/supervisor/reports/print")
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.click("[data-print]")
    assert page.evaluate("() => window.__printed") == 1


def test_a_form_sent_after_the_session_lapsed_comes_back_filled_in(server, new_page):
    page = new_page(1440, 1000)
    problems = _watch(page)
    page.goto(f"{server.url}/login?next=/admin/staff")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/staff$"))
    form = page.locator("#user-new")
    form.locator("input[name=username]").fill("zhao")
    form.locator("input[name=display_name]").fill("赵敏 · 窗口 5")
    page.context.clear_cookies()  # the session lapsed while the admin was typing

    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/login\?next=/admin/staff$"))
    assert "会话已过期，请重新登录 · Session expired, please log in" in page.locator(".flash").inner_text()
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/staff$"))

    form = page.locator("#user-new")
    assert form.locator("input[name=username]").input_value() == "zhao"
    assert form.locator("input[name=display_name]").input_value() == "赵敏 · 窗口 5"
    assert problems == [] and page.js_errors == []
