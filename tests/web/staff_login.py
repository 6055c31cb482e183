"""Logging staff in through the real login form (with its CSRF token)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.web.conftest import DEMO_PASSWORD


def page_csrf(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page carries."""
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def log_in(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Log a client in; returns the CSRF token to send with its forms and HTMX posts."""
    token = page_csrf(client)
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return page_csrf(client, "/counter")
