"""Webhooks (DESIGN §11): signed deliveries from the outbox to a real local HTTP receiver.

The outbox row is written with the change (a rolled-back change sends nothing), the worker
retries a receiver that answers 500 or is away (same ``id`` each time, nothing lost), personal
data goes only to trusted subscriptions, and the API and CLI manage subscriptions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk import runtime as hall_runtime
from kiosk.auth import issue_token
from kiosk.extensions import db
from queue_engine import FakeClock
from queue_engine.core.models import AuditEntry, Service, User
from queue_engine.hall.personal_data import erase_person
from queue_engine.hall.retention import erase_old_personal_data
from queue_engine.notify.models import OutboxMessage
from queue_engine.notify.worker import RetryPolicy, deliver_due
from queue_engine.queue.tickets import issue_ticket
from tests.receiver import Receiver

QUICK = RetryPolicy(first_retry_s=1, factor=2, give_up_s=60, timeout_s=2)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    yield found
    found.stop()


@pytest.fixture
def subscribe(
    client: FlaskClient, auth: Callable[[str], dict[str, str]], receiver: Receiver
) -> Callable[..., Any]:
    def make(events: list[str], **extra: Any) -> dict[str, Any]:
        answer = client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": events, **extra}, headers=auth("admin")
        )
        assert answer.status_code == 201, answer.get_json()
        made: dict[str, Any] = answer.get_json()
        receiver.secret = made["secret"]
        return made

    return make


def deliver(app: Flask, clock: FakeClock) -> int:
    with app.app_context():
        return deliver_due(db.session, clock.now(), policy=QUICK)


def test_called_ticket_is_posted_signed_with_the_events_id(
    app: Flask,
    clock: FakeClock,
    subscribe: Callable[..., Any],
    receiver: Receiver,
    take_ticket: Any,
    call_next: Any,
) -> None:
    subscribe(["ticket.issued", "ticket.called"])
    ticket = take_ticket("A")
    assert call_next(1).status_code == 200
    assert deliver(app, clock) == 2
    got = receiver.accepted()
    assert receiver.bad_signatures == 0
    assert [g["event"] for g in got] == ["ticket.issued", "ticket.called"]
    assert got[1]["data"]["ticket"]["number"] == ticket["number"]
    assert got[1]["data"]["ticket"]["counter_id"] == 1
    assert got[1]["data"]["counter"] == {"id": 1, "name": "1"}  # what a text or a screen would say
    assert {"id", "event", "at", "data"} <= set(got[0])
    assert deliver(app, clock) == 0  # nothing sent twice


def test_a_500_is_retried_with_the_same_id(
    app: Flask, clock: FakeClock, subscribe: Callable[..., Any], receiver: Receiver, take_ticket: Any
) -> None:
    subscribe(["ticket.issued"])
    receiver.answers = [500]
    take_ticket("A")
    assert deliver(app, clock) == 0
    assert deliver(app, clock) == 0  # not due yet: backing off
    clock.advance(seconds=2)
    assert deliver(app, clock) == 1
    first, second = receiver.received
    assert (first["status"], second["status"]) == (500, 200)
    assert first["id"] == second["id"]


def test_a_receiver_away_for_a_while_loses_nothing(
    app: Flask, clock: FakeClock, subscribe: Callable[..., Any], receiver: Receiver, take_ticket: Any
) -> None:
    subscribe(["ticket.issued"])
    receiver.stop()
    numbers = [take_ticket("A")["number"] for _ in range(3)]
    for _ in range(3):
        assert deliver(app, clock) == 0
        clock.advance(seconds=10)
    receiver.start()
    assert deliver(app, clock) == 3
    assert sorted(g["data"]["ticket"]["number"] for g in receiver.accepted()) == sorted(numbers)


def test_a_receiver_slow_to_answer_holds_up_nobody(
    app: Flask, clock: FakeClock, subscribe: Callable[..., Any], receiver: Receiver, take_ticket: Any
) -> None:
    """While the worker waits for a receiver's answer, visitors still take tickets (SQLite's one
    write lock is not held across the request)."""
    subscribe(["ticket.issued"])
    first = take_ticket("A")
    receiver.release.clear()  # the receiver takes the delivery and does not answer yet

    def patient_worker() -> None:  # waits for the answer longer than the kiosk is given below
        with app.app_context():
            deliver_due(db.session, clock.now(), policy=RetryPolicy(timeout_s=60))

    worker = threading.Thread(target=patient_worker, daemon=True)
    worker.start()
    assert receiver.arrived.wait(30), "the worker did not send"
    taken: list[dict[str, Any]] = []
    kiosk = threading.Thread(target=lambda: taken.append(take_ticket("A")), daemon=True)
    kiosk.start()
    kiosk.join(15)
    waited = kiosk.is_alive()
    receiver.release.set()
    worker.join(30)
    kiosk.join(30)
    assert not waited, "taking a ticket waited for the webhook receiver's answer"
    assert [t["number"] for t in taken] == ["A002"] and first["number"] == "A001"
    deliver(app, clock)
    assert sorted(r["data"]["ticket"]["number"] for r in receiver.accepted()) == ["A001", "A002"]


def test_a_rolled_back_change_sends_nothing(
    app: Flask, clock: FakeClock, subscribe: Callable[..., Any], receiver: Receiver
) -> None:
    subscribe(["ticket.issued"])
    with app.app_context():
        issue_ticket(db.session, clock, "A")
        db.session.flush()
        assert db.session.scalar(select(OutboxMessage.id)) is not None  # written with the change
        db.session.rollback()
        assert db.session.scalar(select(OutboxMessage.id)) is None
    assert deliver(app, clock) == 0
    assert receiver.received == []


def test_ticket_near_once_when_n_or_fewer_people_are_ahead(
    app: Flask,
    clock: FakeClock,
    subscribe: Callable[..., Any],
    receiver: Receiver,
    take_ticket: Any,
    call_next: Any,
) -> None:
    subscribe(["ticket.near"])
    tickets = [take_ticket("A")["number"] for _ in range(6)]
    deliver(app, clock)
    told = [(g["data"]["ticket"]["number"], g["data"]["ahead"]) for g in receiver.accepted()]
    # N = 3: the first four had 3 or fewer ahead when issued, each told once with its own count.
    assert told == [(tickets[0], 0), (tickets[1], 1), (tickets[2], 2), (tickets[3], 3)]
    assert call_next(1).status_code == 200
    take_ticket("A")  # the queue moves again: nobody new has 3 ahead
    deliver(app, clock)
    told = [(g["data"]["ticket"]["number"], g["data"]["ahead"]) for g in receiver.accepted()]
    assert told[4:] == [(tickets[4], 3)]


def test_personal_data_only_to_trusted_subscriptions(
    app: Flask,
    clock: FakeClock,
    client: FlaskClient,
    auth: Callable[[str], dict[str, str]],
    receiver: Receiver,
) -> None:
    with app.app_context():
        service = db.session.scalars(select(Service).where(Service.code == "A")).one()
        assert service.id
    for trusted in (False, True):
        answer = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["ticket.finished"], "trusted_for_personal_data": trusted},
            headers=auth("admin"),
        )
        assert answer.status_code == 201
    from queue_engine.notify.models import WebhookSubscription

    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert rows == []
        subs = db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
        assert [s.trusted_for_personal_data for s in subs] == [False, True]


def test_api_lists_and_removes_without_secrets(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]], subscribe: Callable[..., Any]
) -> None:
    made = subscribe(["ticket.called"])
    listed = client.get("/api/v1/webhooks", headers=auth("admin")).get_json()
    assert [w["id"] for w in listed] == [made["id"]]
    assert listed[0].get("secret") is None
    assert client.get("/api/v1/webhooks", headers=auth("clerk1")).status_code == 403
    bad = client.post(
        "/api/v1/webhooks", json={"url": "ftp://x", "events": ["ticket.called"]}, headers=auth("admin")
    )
    assert bad.status_code == 422
    assert client.delete(f"/api/v1/webhooks/{made['id']}", headers=auth("admin")).status_code == 204
    assert client.get("/api/v1/webhooks", headers=auth("admin")).get_json() == []
    assert client.delete(f"/api/v1/webhooks/{made['id']}", headers=auth("admin")).status_code == 404
    # Both changes are in the audit log under the admin, with the address and never the secret.
    assert [(a, t, user) for a, t, user, _ in audited(app)] == [
        ("add_webhook", f"webhook:{made['id']}", "admin"),
        ("remove_webhook", f"webhook:{made['id']}", "admin"),
    ]
    assert all(made["url"] in text and made["secret"] not in text for *_, text in audited(app))


def audited(app: Flask) -> list[tuple[str, str, str | None, str]]:
    """The audit log's webhook and notification rows: action, target, username, the row as text."""
    with app.app_context():
        rows = db.session.execute(
            select(AuditEntry, User.username)
            .outerjoin(User, User.id == AuditEntry.user_id)
            .where(AuditEntry.action.in_(("add_webhook", "remove_webhook", "notify_settings", "send_again")))
            .order_by(AuditEntry.id)
        ).all()
        return [(e.action, e.target, name, f"{e.before} {e.after}") for e, name in rows]


def test_cli_add_prints_the_secret_last_then_list_and_remove(app: Flask) -> None:
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=["webhook", "add", "http://127.0.0.1:9/x", "--events", "ticket.called,ticket.near"]
    )
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert len(secret) == 48
    listed = runner.invoke(args=["webhook", "list"])
    assert "ticket.called,ticket.near" in listed.output and secret not in listed.output
    sub_id = listed.output.split("\t", 1)[0]
    assert runner.invoke(args=["webhook", "remove", sub_id]).exit_code == 0
    assert runner.invoke(args=["webhook", "list"]).output.strip() == ""
    assert runner.invoke(args=["webhook", "add", "http://x", "--events", "nope"]).exit_code != 0
    # Audited as the command line's (no user), the refused one not at all.
    assert [(a, t, user) for a, t, user, _ in audited(app)] == [
        ("add_webhook", f"webhook:{sub_id}", None),
        ("remove_webhook", f"webhook:{sub_id}", None),
    ]


def test_only_the_trusted_receiver_gets_names_and_phones(
    app: Flask,
    clock: FakeClock,
    client: FlaskClient,
    auth: Callable[[str], dict[str, str]],
    take_ticket: Any,
    call_next: Any,
) -> None:
    events = ["appointment.booked", "ticket.finished"]
    with Receiver() as untrusted, Receiver() as trusted:
        for receiver, flag in ((untrusted, False), (trusted, True)):
            made = client.post(
                "/api/v1/webhooks",
                json={"url": receiver.url, "events": events, "trusted_for_personal_data": flag},
                headers=auth("admin"),
            ).get_json()
            receiver.secret = made["secret"]
        booking = {"service": "A", "start": "2026-01-05T10:00:00+08:00", "name": "张三"}
        booking["phone"] = "13812345678"
        booked = client.post("/api/v1/appointments", json=booking)
        assert booked.status_code == 201, booked.get_json()
        ticket = take_ticket("A")
        assert call_next(1).status_code == 200
        record = {"outcome": "resolved", "customer_name": "李四", "contact": "13987654321"}
        finish = f"/api/v1/tickets/{ticket['token']}/finish"
        finished = client.post(finish, json=record, headers=auth("clerk1"))
        assert finished.status_code == 200
        assert deliver(app, clock) == 4
        plain = {g["event"]: g["data"] for g in untrusted.accepted()}
        full = {g["event"]: g["data"] for g in trusted.accepted()}
    assert set(plain) == set(full) == set(events)
    assert full["appointment.booked"]["personal"] == {"name": "张三", "phone": "13812345678"}
    assert full["ticket.finished"]["personal"] == {"customer_name": "李四", "contact": "13987654321"}
    for data in plain.values():
        text = str(data)
        assert "personal" not in data
        assert not any(word in text for word in ("张三", "13812345678", "李四", "13987654321"))
    assert plain["appointment.booked"]["appointment"]["code"] == booked.get_json()["code"]
    assert plain["ticket.finished"]["ticket"]["number"] == ticket["number"]

    # What the outbox kept of them goes too: one person's erasure, then the retention period.
    def kept() -> str:
        with app.app_context():
            return str(db.session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id)).all())

    assert "李四" in kept() and "张三" in kept()
    with app.app_context():
        erase_person(db.session, clock, 1, "13987654321")
        db.session.commit()
    assert "李四" not in kept() and "13987654321" not in kept() and "张三" in kept()
    clock.advance(days=200)
    with app.app_context():
        erase_old_personal_data(db.session, clock, 180)
        db.session.commit()
    assert "张三" not in kept() and "13812345678" not in kept() and ticket["number"] in kept()


def test_the_servers_worker_sends_a_booking_reminder_once_by_itself(
    app_factory: Callable[..., Flask], clock: FakeClock
) -> None:
    app = app_factory(QMS_OUTBOX_WORKER=True, QMS_OUTBOX_SECONDS=0.05)
    client = app.test_client()
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        headers = {"Authorization": f"Bearer {issue_token(admin)}"}
        db.session.commit()
    with Receiver() as receiver:
        try:
            hook = {"url": receiver.url, "events": ["appointment.reminder"]}
            receiver.secret = client.post("/api/v1/webhooks", json=hook, headers=headers).get_json()["secret"]
            booking = {"service": "A", "start": "2026-01-05T11:00:00+08:00", "name": "张三"}
            booking["phone"] = "13812345678"
            code = client.post("/api/v1/appointments", json=booking).get_json()["code"]
            clock.advance(minutes=61)  # 10:01: the slot starts within the hour
            for _ in range(100):
                if receiver.accepted():
                    break
                time.sleep(0.05)
            time.sleep(0.3)  # several more rounds of the worker: a repeat would come now
        finally:
            hall_runtime.stop_day_closer(app)
        got = receiver.accepted()
    assert [(g["event"], g["data"]["appointment"]["code"]) for g in got] == [("appointment.reminder", code)]
    assert "personal" not in got[0]["data"]
