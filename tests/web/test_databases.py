"""The HTTP side on SQLite and PostgreSQL alike: a visit, visitors and counters at the same instant.

Every test here runs once per database (``database_url`` of tests/conftest.py); the
PostgreSQL run skips loudly when no server can be had.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from kiosk.extensions import socketio

from .helpers import all_rows, error_of


@pytest.fixture
def app(database_url: str, app_factory: Callable[..., Flask]) -> Flask:
    """The demo hall on each database (its connections closed before the schema is dropped)."""
    return app_factory(database_url)


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` for i in range(count) on as many threads, started at one barrier."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_a_visit_from_ticket_to_rating(client, auth, take_ticket, call_next):
    ticket = take_ticket("B")
    clerk = auth("clerk3")
    assert call_next(3).get_json()["ticket"]["token"] == ticket["token"]
    assert client.post(f"/api/v1/tickets/{ticket['token']}/start", headers=clerk).status_code == 200
    finished = client.post(
        f"/api/v1/tickets/{ticket['token']}/finish",
        json={"outcome": "referred", "customer_name": "王芳", "description": "需要补充材料"},
        headers=clerk,
    )
    assert finished.get_json()["status"] == "done"
    assert client.post(f"/api/v1/tickets/{ticket['token']}/rating", json={"score": 3}).status_code == 201
    assert client.post(f"/api/v1/tickets/{ticket['token']}/rating", json={"score": 3}).status_code == 409
    stats = client.get("/api/v1/stats/daily", headers=auth("supervisor")).get_json()
    assert stats["totals"]["served"] == 1


def test_visitors_taking_numbers_at_once_get_distinct_numbers(app):
    def take(_: int) -> list[str]:
        client = app.test_client()
        numbers = []
        for _ in range(5):
            response = client.post("/api/v1/tickets", json={"service": "A"})
            assert response.status_code == 201, response.get_json()
            numbers.append(response.get_json()["number"])
        return numbers

    numbers = [n for batch in run_together(6, take) for n in batch]

    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, 31)]


def test_counters_calling_at_once_get_different_tickets(app, auth, take_ticket):
    tokens = {take_ticket("A")["token"] for _ in range(6)}
    headers = {n: auth(f"clerk{n}") for n in (1, 2, 3)}

    def call(i: int) -> str:
        counter_id = i + 1
        response = app.test_client().post(
            f"/api/v1/counters/{counter_id}/call-next", headers=headers[counter_id]
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["ticket"]["token"]

    called = run_together(3, call)

    assert len(set(called)) == 3
    assert set(called) <= tokens


def test_a_nul_in_a_login_or_a_socket_join_is_refused(app, client, take_ticket):
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    before = all_rows(app)

    login = client.post("/login", data={"username": "clerk1\x00", "password": "x", "csrf_token": csrf})
    sio = socketio.test_client(app, flask_test_client=client)
    sio.emit("join", {"room": "ticket", "token": "abc\x00"})
    events = sio.get_received()
    sio.disconnect()

    assert login.status_code == 401
    assert [(e["name"], e["args"]) for e in events] == [("error", [{"code": "unknown_ticket"}])]
    assert all_rows(app) == before


def test_a_nul_in_the_body_or_the_path_is_refused(client, auth, take_ticket, call_next):
    ticket = take_ticket("A")
    call_next(1)

    for response in (
        client.post("/api/v1/tickets", json={"service": "\x00"}),
        client.get("/api/v1/tickets/%00"),
        client.post("/api/v1/tickets/%00/recall", headers=auth("clerk1")),
        client.post(
            f"/api/v1/tickets/{ticket['token']}/finish",
            json={"outcome": "resolved", "notes": "\x00"},
            headers=auth("clerk1"),
        ),
    ):
        assert 400 <= response.status_code < 500
        error_of(response)
