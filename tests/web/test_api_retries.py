"""Finding 11: a retried POST /api/v1/tickets with its Idempotency-Key takes no second ticket;
a rating's ``?via=`` takes only the visitor's channels; a clerk cannot rate their own visit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kiosk.extensions import db
from queue_engine.core.models import Ticket, Visit


def ticket_count(app: Any) -> int:
    """How many tickets the hall has issued."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Ticket)) or 0)


def test_a_retry_with_the_same_idempotency_key_gets_the_same_ticket(app, client):
    key = {"Idempotency-Key": "kiosk-7-attempt-1"}
    first = client.post("/api/v1/tickets", json={"service": "A"}, headers=key)
    again = client.post("/api/v1/tickets", json={"service": "A"}, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.get_json()["token"] == first.get_json()["token"]
    assert again.get_json()["number"] == first.get_json()["number"] == "A001"
    assert ticket_count(app) == 1

    other = client.post("/api/v1/tickets", json={"service": "A"}, headers={"Idempotency-Key": "attempt-2"})
    plain = client.post("/api/v1/tickets", json={"service": "A"})
    assert (other.get_json()["number"], plain.get_json()["number"]) == ("A002", "A003")
    elsewhere = client.post(
        "/api/v1/tickets", json={"service": "A"}, headers=key, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert elsewhere.get_json()["number"] == "A004"  # another client's key is its own
    assert ticket_count(app) == 4


def test_an_idempotency_key_longer_than_64_characters_is_refused(client):
    answer = client.post("/api/v1/tickets", json={"service": "A"}, headers={"Idempotency-Key": "k" * 65})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "invalid_input"


@pytest.fixture
def finished(client, auth, take_ticket) -> dict[str, Any]:
    """A visit clerk1 has just finished at counter 1."""
    token = take_ticket("A")["token"]
    client.post("/api/v1/counters/1/call-next", headers=auth("clerk1"))
    body = {"outcome": "resolved"}
    done = client.post(f"/api/v1/tickets/{token}/finish", headers=auth("clerk1"), json=body)
    assert done.status_code == 200, done.get_json()
    return {"token": token}


@pytest.mark.parametrize("via", ["tablet", "counter", "kiosk", "x" * 16])
def test_a_rating_cannot_claim_a_channel_it_did_not_come_from(app, client, finished, via):
    answer = client.post(f"/api/v1/tickets/{finished['token']}/rating?via={via}", json={"score": 5})
    assert answer.status_code == 422
    assert "error" in answer.get_json()
    with app.app_context():
        assert db.session.scalars(select(Visit.rating)).one() is None


def test_the_clerk_cannot_rate_their_own_visit_before_the_visitor(app, client, auth, finished):
    refused = client.post(
        f"/api/v1/tickets/{finished['token']}/rating", json={"score": 5}, headers=auth("clerk1")
    )
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "staff_cannot_rate"

    visitor = client.post(f"/api/v1/tickets/{finished['token']}/rating?via=web", json={"score": 2})
    assert visitor.status_code == 201
    with app.app_context():
        assert db.session.execute(select(Visit.rating, Visit.rating_source)).one() == (2, "web")
