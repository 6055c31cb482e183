"""Rules that used to be written in several places, now in one: each behaves alike everywhere."""

from __future__ import annotations

import json
import re

import pytest

from queue_engine.core.db import sqlalchemy_url
from queue_engine.queue.snapshots import board_filter

from .staff_login import log_in


@pytest.mark.parametrize(
    ("services", "counters", "expected"),
    [
        ("A,B", "", (["A", "B"], [])),
        (" a , b ,", "", (["A", "B"], [])),
        ("", "1, 2,x,", ([], [1, 2])),
        ("", "", ([], [])),
    ],
)
def test_a_board_area_is_read_one_way(services, counters, expected):
    assert board_filter(services, counters) == expected


def test_the_board_page_and_the_api_show_the_same_area(client, take_ticket):
    take_ticket("A")
    take_ticket("B")

    api = client.get("/api/v1/display?services=%20a").get_json()
    page = client.get("/display?services=%20a").get_data(as_text=True)

    config = json.loads(re.search(r'id="board-config">(.*?)</script>', page, re.S).group(1))
    assert api["waiting"] == {"A": 1}  # a space or a small letter in a board's link no longer hides it
    assert config["snapshot"]["waiting"] == api["waiting"]
    assert config["filters"] == {"services": ["A"], "counters": []}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_a_postgresql_url_means_the_psycopg_driver(raw, expected):
    assert sqlalchemy_url(raw) == expected


@pytest.mark.parametrize("path", ["/display", "/kiosk", "/api/v1/display", "/login"])
def test_every_answer_varies_on_hx_request(client, path):
    assert "HX-Request" in client.get(path).headers.get("Vary", "")


def test_a_history_restore_gets_the_whole_page_not_the_partial(app):
    supervisor = app.test_client()
    log_in(supervisor, "supervisor")

    partial = supervisor.get("/supervisor", headers={"HX-Request": "true"}).get_data(as_text=True)
    restored = supervisor.get(
        "/supervisor", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    ).get_data(as_text=True)

    assert "<html" not in partial
    assert "<html" in restored


def test_an_htmx_request_to_the_admin_pages_without_login_gets_401_not_a_login_page(client):
    assert client.get("/admin/services", headers={"HX-Request": "true"}).status_code == 401
    assert client.get("/admin/services").status_code == 302
