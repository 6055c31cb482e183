"""QMS_TICKET_RATE_LIMIT: tickets one client address may take from the public API (DESIGN §8)."""

from __future__ import annotations

import logging

from .helpers import all_rows, error_of

OTHER_ADDRESS = {"REMOTE_ADDR": "192.0.2.7"}


def test_the_fourth_ticket_in_a_minute_is_refused(app_factory):
    app = app_factory(QMS_TICKET_RATE_LIMIT="3/minute")
    client = app.test_client()
    taken = [client.post("/api/v1/tickets", json={"service": "A"}) for _ in range(3)]
    assert [r.status_code for r in taken] == [201, 201, 201]
    before = all_rows(app)

    refused = client.post("/api/v1/tickets", json={"service": "A"})

    assert refused.status_code == 429
    assert error_of(refused)["code"] == "rate_limited"
    assert all_rows(app) == before
    waiting = {s["code"]: s["waiting"] for s in client.get("/api/v1/services").get_json()}
    assert waiting["A"] == 3


def test_the_limit_is_per_client_address(app_factory):
    app = app_factory(QMS_TICKET_RATE_LIMIT="3/minute")
    client = app.test_client()
    for _ in range(4):
        client.post("/api/v1/tickets", json={"service": "A"})

    elsewhere = client.post("/api/v1/tickets", json={"service": "B"}, environ_base=OTHER_ADDRESS)

    assert elsewhere.status_code == 201


def test_the_limit_counts_tickets_only(app_factory):
    app = app_factory(QMS_TICKET_RATE_LIMIT="3/minute")
    client = app.test_client()
    ticket = client.post("/api/v1/tickets", json={"service": "A"}).get_json()
    for _ in range(5):
        assert client.get(f"/api/v1/tickets/{ticket['token']}").status_code == 200
        assert client.get("/api/v1/services").status_code == 200
        assert client.get("/api/v1/display").status_code == 200

    assert client.post("/api/v1/tickets", json={"service": "A"}).status_code == 201


def test_zero_turns_the_limit_off(app_factory, caplog):
    app = app_factory(QMS_TICKET_RATE_LIMIT="0")
    client = app.test_client()

    with caplog.at_level(logging.WARNING):
        answers = [client.post("/api/v1/tickets", json={"service": "C"}).status_code for _ in range(25)]

    assert answers == [201] * 25
    # "Off" is a setting, not a broken one: no error logged for each ticket taken.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
