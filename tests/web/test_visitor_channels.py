"""Visitor messages (DESIGN §11): texts through a real local HTTP gateway, e-mail through a real
local SMTP server (aiosmtpd), the hall's rules (quiet hours, once per ticket, STOP) and masking,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import email
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.policy import default as email_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.extensions import db
from queue_engine import FakeClock
from queue_engine.hall.retention import erase_old_personal_data
from queue_engine.notify.models import OutboxMessage
from queue_engine.notify.outbox import set_near_position
from queue_engine.notify.visitor_models import VisitorContact
from queue_engine.notify.visitors import forget_channel_state, save_channel_settings
from queue_engine.notify.worker import RetryPolicy, deliver_due
from tests.receiver import Gateway
from tests.web.staff_login import log_in, page_csrf

QUICK = RetryPolicy(first_retry_s=1, factor=2, give_up_s=60, timeout_s=2)
TOKEN = "gateway-secret"
TEN = "2026-01-05T02:00:00+00:00"  # Monday 10:00 in Shanghai; the clock stands at 09:00


@pytest.fixture
def app(app_factory: Callable[..., Flask], database_url: str) -> Flask:
    """The demo hall on SQLite and on PostgreSQL: the rules' queries run on both."""
    return app_factory(database_url)


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    monkeypatch.setenv("QMS_SMS_TOKEN", TOKEN)
    found = Gateway()
    found.start()
    yield found
    found.stop()


@pytest.fixture
def texting(app: Flask, gateway: Gateway, clock: FakeClock) -> Callable[..., None]:
    """Point the hall at the gateway (JSON body, bearer header), "N ahead" = 1; more settings by keyword."""

    def configure(**extra: Any) -> None:
        with app.app_context():
            save_channel_settings(
                db.session,
                {"sms_url": gateway.url, "sms_header": "Authorization: Bearer {token}", **extra},
                clock.now(),
                None,
            )
            set_near_position(db.session, 1, clock.now(), None)
            db.session.commit()
        forget_channel_state()

    return configure


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.mails: list[email.message.EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.mails.append(email.message_from_bytes(envelope.content, policy=email_policy))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("QMS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("QMS_SMTP_PORT", str(port))
    monkeypatch.setenv("QMS_SMTP_FROM", "hall@example.org")
    forget_channel_state()
    yield inbox
    controller.stop()


def deliver(app: Flask, clock: FakeClock) -> int:
    with app.app_context():
        return deliver_due(db.session, clock.now(), policy=QUICK)


def leave_number(client: FlaskClient, token: str, phone: str) -> Any:
    csrf = page_csrf(client, f"/t/{token}")
    return client.post(
        f"/t/{token}/sms", data={"csrf_token": csrf, "phone": phone}, headers={"HX-Request": "true"}
    )


def rows(app: Flask, channel: str = "sms") -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == channel)))


def book(client: FlaskClient, *, lang: str, phone: str, email_address: str = "") -> str:
    csrf = page_csrf(client, f"/book/A?lang={lang}")
    answer = client.post(
        f"/book/A?lang={lang}",
        data={"csrf_token": csrf, "start": TEN, "name": "Ann", "phone": phone, "email": email_address},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    return str(answer.headers["Location"]).split("/b/")[1].split("?")[0]


def test_a_visitor_who_left_a_number_is_texted_n_ahead_once_then_called_in_their_language(
    app: Flask,
    client: FlaskClient,
    clock: FakeClock,
    gateway: Gateway,
    texting: Callable[..., None],
    take_ticket: Any,
    call_next: Any,
) -> None:
    texting()
    first, second = take_ticket("A"), take_ticket("A")
    mine = take_ticket("A", lang="en")
    assert leave_number(client, mine["token"], "138 1234 5678").status_code == 200
    gateway.answers = [500]

    assert call_next(1).status_code == 200  # one ahead of mine now: "N ahead" (N = 1)
    take_ticket("A")  # the queue moves again with mine still 1 ahead: no second "N ahead"
    assert deliver(app, clock) == 0  # the gateway answered 500
    clock.advance(seconds=2)
    assert deliver(app, clock) == 1  # retried
    assert call_next(2).status_code == 200
    assert call_next(3).status_code == 200  # mine
    assert deliver(app, clock) == 1

    first_try, retry = gateway.requests[0], gateway.requests[1]
    assert (first_try["status"], retry["status"]) == (500, 200) and first_try["body"] == retry["body"]
    assert retry["headers"]["Authorization"] == f"Bearer {TOKEN}"
    near, called = gateway.texts()
    assert near["phone"] == called["phone"] == "13812345678"
    assert f"number {mine['number']}: 1 people ahead" in near["message"]
    assert f"number {mine['number']}, please go to counter 3" in called["message"]
    assert first["number"] not in near["message"] and second["number"] not in called["message"]
    assert [r.event for r in rows(app)] == ["ticket.near", "ticket.called"]


def test_a_chinese_ticket_is_texted_in_chinese(
    app: Flask,
    client: FlaskClient,
    clock: FakeClock,
    gateway: Gateway,
    texting: Callable[..., None],
    take_ticket: Any,
    call_next: Any,
) -> None:
    texting()
    mine = take_ticket("A", lang="zh")
    assert "到号前短信提醒我" in client.get(f"/t/{mine['token']}").get_data(as_text=True)
    assert "138****5678" in leave_number(client, mine["token"], "13812345678").get_data(as_text=True)
    assert call_next(1).status_code == 200
    assert deliver(app, clock) == 1
    assert gateway.texts()[0]["message"].endswith(f"请 {mine['number']} 号到 1 号窗口办理。")


def test_quiet_hours_defer_n_ahead_but_not_called(
    app: Flask,
    client: FlaskClient,
    clock: FakeClock,
    gateway: Gateway,
    texting: Callable[..., None],
    take_ticket: Any,
    call_next: Any,
) -> None:
    texting(quiet_start="08:00", quiet_end="12:00")  # it is 09:00 in the hall
    take_ticket("A"), take_ticket("A")
    mine = take_ticket("A", lang="en")
    leave_number(client, mine["token"], "13812345678")

    assert call_next(1).status_code == 200  # "N ahead" now, but quietly: at 12:00
    assert deliver(app, clock) == 0
    assert call_next(2).status_code == 200 and call_next(3).status_code == 200  # mine is called
    assert deliver(app, clock) == 1

    near = next(r for r in rows(app) if r.event == "ticket.near")
    assert near.due_at == datetime(2026, 1, 5, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    (text,) = gateway.texts()
    assert text["message"].endswith(f"number {mine['number']}, please go to counter 3.")
    clock.set(near.due_at + timedelta(seconds=1))
    deliver(app, clock)
    assert len(gateway.texts()) == 1  # by then the visitor was called: the stale "N ahead" is dropped


def test_a_number_that_replied_stop_gets_nothing_more(
    app: Flask, client: FlaskClient, clock: FakeClock, gateway: Gateway, texting: Callable[..., None]
) -> None:
    texting()
    reply = {"phone": "+86 138 1234 5678", "text": "退订"}
    assert client.post("/api/v1/sms/inbound", json=reply).status_code == 403
    wrong = client.post("/api/v1/sms/inbound", json=reply, headers={"X-QMS-SMS-Token": "guess"})
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "forbidden"
    chat = client.post(
        "/api/v1/sms/inbound",
        json={"phone": "13812345678", "text": "thanks"},
        headers={"X-QMS-SMS-Token": TOKEN},
    )
    assert chat.get_json() == {"stopped": False}
    book(client, lang="en", phone="13812345678")  # texted before the STOP
    stopped = client.post("/api/v1/sms/inbound", json=reply, headers={"X-QMS-SMS-Token": TOKEN})

    assert stopped.status_code == 200 and stopped.get_json() == {"stopped": True}
    other = book(client, lang="en", phone="13900000000")
    assert deliver(app, clock) == 1
    assert [t["phone"] for t in gateway.texts()] == ["13900000000"], other


def test_the_booking_confirmation_mail_arrives_in_the_bookings_language(
    app: Flask,
    client: FlaskClient,
    clock: FakeClock,
    gateway: Gateway,
    texting: Callable[..., None],
    smtp: Inbox,
) -> None:
    texting()
    token = book(client, lang="en", phone="13812345678", email_address="ann@example.org")
    assert deliver(app, clock) == 2  # the text and the mail
    csrf = page_csrf(client, f"/b/{token}")
    assert client.post(f"/b/{token}/cancel", data={"csrf_token": csrf}).status_code == 303
    assert deliver(app, clock) == 2

    confirmation, cancellation = smtp.mails
    assert confirmation["To"] == "ann@example.org" and confirmation["From"] == "hall@example.org"
    assert "Booking confirmed" in confirmation["Subject"]
    body = confirmation.get_content()
    assert "code" in body and "2026-01-05 10:00" in body and "预约" not in body
    assert "Booking cancelled" in cancellation["Subject"]
    booked, cancelled = (t["message"] for t in gateway.texts())
    assert "booked" in booked and "is cancelled" in cancelled


def test_a_chinese_booking_gets_its_confirmation_in_chinese(
    app: Flask, client: FlaskClient, clock: FakeClock, smtp: Inbox
) -> None:
    book(client, lang="zh", phone="13812345678", email_address="zhang@example.org")
    assert deliver(app, clock) == 1  # no gateway set: only the mail
    (mail,) = smtp.mails
    assert "预约成功" in mail["Subject"] and "预约码" in mail.get_content()


def test_the_number_left_is_shown_masked_and_erased_with_the_tickets_personal_data(
    app: Flask, client: FlaskClient, clock: FakeClock, texting: Callable[..., None], take_ticket: Any
) -> None:
    texting()
    mine = take_ticket("A", lang="en")
    offered = client.get(f"/t/{mine['token']}").get_data(as_text=True)
    answer = leave_number(client, mine["token"], "13812345678")
    page = client.get(f"/t/{mine['token']}").get_data(as_text=True)
    bad = leave_number(client, mine["token"], "12345")

    assert "Text me before my turn" in offered
    assert answer.status_code == 200 and "138****5678" in answer.get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page
    assert bad.status_code == 422 and "Please enter a mobile number" in bad.get_data(as_text=True)
    clock.advance(days=200)
    with app.app_context():
        erase_old_personal_data(db.session, clock, 180)
        db.session.commit()
        assert db.session.scalars(select(VisitorContact.phone)).all() == [""]


def test_the_admin_edits_gateway_quiet_hours_and_templates_on_a_protected_form(
    app: Flask, client: FlaskClient
) -> None:
    log_in(client, "admin")
    page = client.get("/admin/notifications").get_data(as_text=True)
    csrf = page_csrf(client, "/admin/notifications")
    typed = {
        "sms_url": "https://relay.example.org/send",
        "sms_method": "POST",
        "sms_content_type": "application/json",
        "sms_body": '{"to": "{phone}", "text": "{message}"}',
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "sms_header": "X-Api-Key: k-5ecret",
        "near_position": "4",
        "template_en_ticket.near": "{number}: {ahead} ahead, {name}",
    }

    forged = client.post("/admin/notifications", data=typed)
    refused = client.post("/admin/notifications", data={**typed, "csrf_token": csrf})
    typed["template_en_ticket.near"] = "{number}: {ahead} ahead"
    typed["template_zh_ticket.near"] = "{number} 号，还有 {ahead} 人"
    saved = client.post("/admin/notifications", data={**typed, "csrf_token": csrf})
    again = client.get("/admin/notifications").get_data(as_text=True)

    assert "前面还有 N 人" in page and "N people ahead" in page
    assert forged.status_code == 400
    assert refused.status_code == 422 and "{name}" in refused.get_data(as_text=True)
    assert saved.status_code == 303
    assert "https://relay.example.org/send" in again and "还有 {ahead} 人" in again
    assert 'name="near_position" value="4"' in again and 'value="21:00"' in again
    # Audited once, as the admin: what changed and the gateway's address, never the header's key.
    audit = client.get("/admin/audit?action=notify_channels").get_data(as_text=True)
    assert audit.count("<code>notify_channels</code>") == 1 and "https://relay.example.org/send" in audit
    assert "sms_header" in audit and "k-5ecret" not in audit
    settings = client.get("/admin/audit?action=notify_settings").get_data(as_text=True)
    assert "<td>near_position</td>" in settings


def test_a_bad_rating_gets_a_follow_up_text_to_the_number_left(
    app: Flask,
    client: FlaskClient,
    clock: FakeClock,
    gateway: Gateway,
    texting: Callable[..., None],
    take_ticket: Any,
    call_next: Any,
    auth: Callable[[str], dict[str, str]],
) -> None:
    texting()
    mine = take_ticket("A", lang="en")
    leave_number(client, mine["token"], "13812345678")
    assert call_next(1).status_code == 200
    finished = client.post(
        f"/api/v1/tickets/{mine['token']}/finish", json={"outcome": "resolved"}, headers=auth("clerk1")
    )
    rated = client.post(f"/api/v1/tickets/{mine['token']}/rating", json={"score": 1})
    assert (finished.status_code, rated.status_code) == (200, 201), rated.get_json()
    assert deliver(app, clock) == 2

    called, follow_up = (t["message"] for t in gateway.texts())
    assert "please go to counter 1" in called
    assert "we are sorry" in follow_up and "we will contact you by 2026-01-" in follow_up


def test_the_admins_delivery_log_shows_masked_recipients_and_sends_again(
    app: Flask, client: FlaskClient, clock: FakeClock, gateway: Gateway, texting: Callable[..., None]
) -> None:
    texting()
    book(client, lang="zh", phone="13812345678")
    gateway.answers = [500] * 10
    for _ in range(4):
        deliver(app, clock)
        clock.advance(seconds=30)
    with app.app_context():  # given up at once by a policy that does not wait
        deliver_due(db.session, clock.now(), policy=RetryPolicy(first_retry_s=1, give_up_s=0))
    gateway.answers = []
    admin = app.test_client()
    log_in(admin, "admin")

    page = admin.get("/admin/notifications").get_data(as_text=True)
    csrf = page_csrf(admin, "/admin/notifications")
    (message,) = rows(app)
    again = admin.post(f"/admin/notifications/{message.id}/again", data={"csrf_token": csrf})

    assert "138****5678" in page and "13812345678" not in page and "HTTP 500" in page
    assert again.status_code == 303
    assert deliver(app, clock) == 1 and gateway.texts()[0]["phone"] == "13812345678"


def test_a_supervisor_exports_and_erases_a_number_left_for_texts(
    app: Flask, client: FlaskClient, texting: Callable[..., None], take_ticket: Any
) -> None:
    texting()
    mine = take_ticket("A")
    leave_number(client, mine["token"], "13912345678")
    supervisor = app.test_client()
    csrf = log_in(supervisor, "supervisor")

    exported = supervisor.post(
        "/supervisor/personal-data/export", data={"q": "13912345678", "format": "csv", "csrf_token": csrf}
    )
    erased = supervisor.post("/supervisor/personal-data/erase", data={"q": "13912345678", "csrf_token": csrf})

    assert "message_contact" in exported.get_data(as_text=True)
    assert "13912345678" in exported.get_data(as_text=True)
    assert erased.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(VisitorContact.phone)).all() == [""]


def test_the_booking_reminder_is_texted_once_with_no_webhook_subscribed(
    app: Flask, client: FlaskClient, clock: FakeClock, gateway: Gateway, texting: Callable[..., None]
) -> None:
    from queue_engine.notify.scheduled import due_scheduled, set_reminder_lead_min

    texting()
    book(client, lang="zh", phone="13812345678")
    with app.app_context():
        set_reminder_lead_min(db.session, 30, clock.now(), None)
        db.session.commit()
        clock.advance(minutes=35)  # 09:35: the 10:00 slot is within the reminder's 30 minutes
        due_scheduled(db.session, clock)
        due_scheduled(db.session, clock)  # a second look finds nothing new
    deliver(app, clock)

    confirmed, reminder = (t["message"] for t in gateway.texts())
    assert "预约" in confirmed
    assert "提醒" in reminder and "10:00" in reminder
    assert len(gateway.texts()) == 2
