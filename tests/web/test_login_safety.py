"""The staff log-in as an attacker tries it: where it sends you afterwards."""

from __future__ import annotations

import re

import pytest

from .conftest import DEMO_PASSWORD


def _form_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post_login(client, username: str, password: str = DEMO_PASSWORD, query: str = ""):
    """Submit the real login form (with its CSRF token); the raw answer, not followed."""
    token = _form_token(client)
    return client.post(
        "/login" + query, data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.mark.parametrize(
    "next_",
    [
        "/%09/evil.example/phish",
        "/%0A/evil.example/phish",
        "/%5Cevil.example/phish",
        "%5C%5Cevil.example",
        "//evil.example",
        "///evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "%20//evil.example",
    ],
)
def test_the_login_never_sends_staff_off_the_site(client, next_):
    answer = post_login(client, "supervisor", query=f"?next={next_}")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil.example" not in location and "javascript" not in location


def test_the_login_still_goes_on_to_the_page_asked_for(client):
    answer = post_login(client, "supervisor", query="?next=/supervisor/reports%3Ffrom%3D2026-01-01")
    assert answer.headers["Location"] == "/supervisor/reports?from=2026-01-01"
