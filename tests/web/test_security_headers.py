"""Security headers (DESIGN §13): a CSP without inline script, no framing, nosniff, no referrer
and no cache on the pages whose URL holds a secret, HSTS and Secure cookies over TLS."""

from __future__ import annotations

import re

import pytest

from tests.web.staff_login import log_in

PAGES = ["/", "/login", "/kiosk", "/display", "/api/v1/services", "/static/js/page.js"]


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_policy(client, path):
    answer = client.get(path)
    answer.close()
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["frame-ancestors"] == "'none'"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_the_ticket_page_is_not_cached_and_sends_no_referrer(client, take_ticket):
    token = take_ticket("A")["token"]
    page = client.get(f"/t/{token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page.headers["Cache-Control"]
    assert client.get("/kiosk").headers["Referrer-Policy"] != "no-referrer"


def test_no_page_holds_inline_script(app, client, take_ticket):
    token = take_ticket("A")["token"]
    supervisor = app.test_client()
    log_in(supervisor, "supervisor")
    pages = [client.get(p) for p in ("/", "/login", "/kiosk", "/display", f"/t/{token}")]
    pages += [
        supervisor.get(p) for p in ("/counter/1", "/supervisor", "/supervisor/reports/print", "/visits")
    ]
    for page in pages:
        html = page.get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert not re.search(r"\son(click|submit|load|change|input)=", html)


def test_behind_tls_the_answers_add_hsts_and_a_secure_session_cookie(app_factory):
    app = app_factory(QMS_PROXY_COUNT=1)
    client = app.test_client()
    over_tls = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert over_tls.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = over_tls.headers.get("Set-Cookie", "")
    assert "session=" in cookie and "Secure" in cookie
    plain = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    assert "Secure" not in plain.headers.get("Set-Cookie", "")
