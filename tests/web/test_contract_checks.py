"""The suite's contract checks (tests/contract.py) catch an API that drifts from its document."""

from __future__ import annotations

import copy

import pytest

import kiosk.api.public
from queue_engine.core.errors import CounterBusy
from tests.contract import ContractClient, ContractViolation, contract_of, hold_to


def test_the_web_tests_clients_check_the_contract(client):
    assert isinstance(client, ContractClient)


def test_an_answer_with_a_wrong_field_type_fails_the_test(client, take_ticket, monkeypatch):
    ticket = take_ticket("A")
    real = kiosk.api.public.ticket_view
    monkeypatch.setattr(
        kiosk.api.public, "ticket_view", lambda *a, **k: {**real(*a, **k), "position": "first"}
    )

    with pytest.raises(ContractViolation, match=r"at position: 'first' is not valid"):
        client.get(f"/api/v1/tickets/{ticket['token']}")


def test_an_answer_missing_a_field_fails_the_test(client, take_ticket, monkeypatch):
    ticket = take_ticket("A")
    real = kiosk.api.public.ticket_view

    def without_rated(*args, **kwargs):
        view = real(*args, **kwargs)
        del view["rated"]
        return view

    monkeypatch.setattr(kiosk.api.public, "ticket_view", without_rated)

    with pytest.raises(ContractViolation, match="'rated' is a required property"):
        client.get(f"/api/v1/tickets/{ticket['token']}")


def test_an_answer_with_an_undescribed_field_fails_the_test(client, monkeypatch):
    real = kiosk.api.public.display_snapshot
    monkeypatch.setattr(
        kiosk.api.public, "display_snapshot", lambda *a, **k: {**real(*a, **k), "weather": "sunny"}
    )

    with pytest.raises(ContractViolation, match="'weather' was unexpected"):
        client.get("/api/v1/display")


def test_an_undocumented_status_fails_the_test(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise CounterBusy("busy")

    monkeypatch.setattr(kiosk.api.public, "display_snapshot", refuse)

    with pytest.raises(ContractViolation, match="answered 409: an undocumented status for GET /display"):
        client.get("/api/v1/display")


def test_a_body_the_app_takes_but_the_document_refuses_fails_the_test(app, client):
    document = copy.deepcopy(contract_of(app).document)
    del document["components"]["schemas"]["IssueTicket"]["properties"]["priority"]
    hold_to(app, document)

    with pytest.raises(ContractViolation, match="answered 201 to a body the document refuses"):
        client.post("/api/v1/tickets", json={"service": "A", "priority": True})


def test_a_route_the_document_lacks_fails_the_test(app, client):
    document = copy.deepcopy(contract_of(app).document)
    del document["paths"]["/display"]
    hold_to(app, document)

    with pytest.raises(ContractViolation, match="GET /api/v1/display answered 200, but the document has no"):
        client.get("/api/v1/display")


def test_refused_bodies_and_unknown_routes_pass_when_documented(client):
    # Bad input is answered with a documented error: the check lets the test judge it.
    assert client.post("/api/v1/tickets", json={"service": 1}).status_code == 422
    assert client.get("/api/v1/no-such-route").status_code == 404
    assert client.get("/api/v1/tickets").status_code == 405
