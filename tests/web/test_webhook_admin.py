"""/admin/webhooks: admins add and remove subscriptions (the secret shown once), see every delivery
attempt and send one again; and personal data reaches only a trusted receiver (real local ones)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.extensions import db
from queue_engine import FakeClock
from queue_engine.notify.models import OutboxMessage, WebhookSubscription
from queue_engine.notify.worker import RetryPolicy, deliver_due
from tests.receiver import Receiver

from .test_admin import Staff
from .test_admin import admin as admin  # noqa: F401 (fixtures)
from .test_admin import login as login  # noqa: F401

QUICK = RetryPolicy(first_retry_s=1, factor=2, give_up_s=60, timeout_s=2)
PAGE = "/admin/webhooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    yield found
    found.stop()


def deliver(app: Flask, clock: FakeClock) -> int:
    with app.app_context():
        return deliver_due(db.session, clock.now(), policy=QUICK)


def secret_in(html: str) -> str | None:
    found = re.search(r'<code class="secret-value">([^<]+)</code>', html)
    return found.group(1) if found else None


def add(admin: Staff, url: str, events: list[str], *, trusted: bool = False, htmx: bool = True) -> Any:
    form: dict[str, Any] = {"url": url, "events": events}
    if trusted:
        form["trusted"] = "on"
    return admin.post(PAGE, form, htmx=htmx)


def test_only_admins_see_the_page_and_it_is_in_the_navigation(
    app: Flask, login: Any, client: FlaskClient
) -> None:
    assert client.get(PAGE).status_code == 302  # to the login page
    assert login("clerk1").get(PAGE).status_code == 403
    assert login("supervisor").get(PAGE).status_code == 403
    page = login("admin").get("/admin").get_data(as_text=True)
    assert 'href="/admin/webhooks"' in page and "Webhooks · 消息推送" in page


def test_adding_shows_the_secret_once_and_the_subscription_is_the_apis(
    admin: Staff, client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    answer = add(admin, "https://crm.example/hook", ["ticket.called", "appointment.reminder"], trusted=True)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    secret = secret_in(html)
    assert secret is not None and len(secret) == 48
    assert "仅显示这一次" in html and "https://crm.example/hook" in html
    again = admin.get(PAGE).get_data(as_text=True)
    assert secret not in again and "https://crm.example/hook" in again
    assert "Booking reminder · 预约提醒" in again and "Trusted: sent · 可接收" in again
    listed = client.get("/api/v1/webhooks", headers=auth("admin")).get_json()
    assert [(w["url"], w["events"], w["trusted_for_personal_data"]) for w in listed] == [
        ("https://crm.example/hook", ["ticket.called", "appointment.reminder"], True)
    ]


def test_a_plain_form_without_javascript_also_shows_the_secret(admin: Staff) -> None:
    answer = add(admin, "https://crm.example/plain", ["ticket.issued"], htmx=False)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "<nav" in html and secret_in(html) is not None  # the whole page


def test_a_refused_form_keeps_what_was_typed_and_adds_nothing(app: Flask, admin: Staff) -> None:
    answer = add(admin, "ftp://crm.example/hook", ["ticket.called"])
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'value="ftp://crm.example/hook"' in html and 'value="ticket.called" checked' in html
    assert secret_in(html) is None
    assert add(admin, "https://crm.example/hook", []).status_code == 422
    with app.app_context():
        assert db.session.scalars(select(WebhookSubscription)).all() == []


def test_forms_need_the_csrf_token(app: Flask, admin: Staff) -> None:
    refused = admin.client.post(PAGE, data={"url": "https://x.example/h", "events": ["ticket.called"]})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(WebhookSubscription)).all() == []


def test_removing_stops_the_deliveries(
    app: Flask, clock: FakeClock, admin: Staff, receiver: Receiver, take_ticket: Any
) -> None:
    receiver.secret = secret_in(add(admin, receiver.url, ["ticket.issued"]).get_data(as_text=True)) or ""
    with app.app_context():
        sub_id = db.session.scalars(select(WebhookSubscription.id)).one()
    answer = admin.post(f"{PAGE}/{sub_id}/remove")
    assert answer.status_code == 200 and receiver.url not in answer.get_data(as_text=True)
    take_ticket("A")
    assert deliver(app, clock) == 0 and receiver.received == []
    assert admin.post(f"{PAGE}/{sub_id}/remove").status_code == 404


def test_the_log_shows_each_attempt_and_send_again_delivers_it(
    app: Flask, clock: FakeClock, admin: Staff, receiver: Receiver, take_ticket: Any
) -> None:
    receiver.secret = secret_in(add(admin, receiver.url, ["ticket.issued"]).get_data(as_text=True)) or ""
    receiver.answers = [500, 503]
    ticket = take_ticket("A")
    assert deliver(app, clock) == 0
    clock.advance(seconds=1)
    assert deliver(app, clock) == 0  # second failure: next try in 2 s
    log = admin.get(PAGE).get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td class=\"nowrap\">.*?</tr>", log, re.S)
    assert len(rows) == 2
    assert all("Waiting to retry · 待重试" in r and "ticket.issued" in r for r in rows)
    assert ">503<" in rows[0] and ">500<" in rows[1] and ">2<" in rows[0]
    with app.app_context():
        message_id = db.session.scalars(select(OutboxMessage.id)).one()
    again = admin.post(f"{PAGE}/deliveries/{message_id}/send-again")
    assert again.status_code == 200 and "重新发送" in again.get_data(as_text=True)
    assert deliver(app, clock) == 1  # due now, without waiting for the back-off
    assert [r["data"]["ticket"]["number"] for r in receiver.accepted()] == [ticket["number"]]
    log = admin.get(PAGE).get_data(as_text=True)
    assert "Delivered · 已送达" in log and ">200<" in log
    assert admin.post(f"{PAGE}/deliveries/999999/send-again").status_code == 404


def test_the_log_of_one_subscription_leaves_out_the_others(
    app: Flask, clock: FakeClock, admin: Staff, receiver: Receiver, take_ticket: Any
) -> None:
    add(admin, receiver.url, ["ticket.issued"])
    add(admin, "http://127.0.0.1:9/away", ["ticket.called"])
    take_ticket("A")
    deliver(app, clock)
    with app.app_context():
        first, second = db.session.scalars(select(WebhookSubscription.id).order_by(WebhookSubscription.id))
    mine = admin.get(f"{PAGE}?subscription={first}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "ticket.issued" in mine
    other = admin.get(f"{PAGE}?subscription={second}").get_data(as_text=True)
    assert "No delivery attempt yet · 尚无推送记录" in other


def test_the_settings_form_sets_n_ahead_and_the_reminder_lead(app: Flask, admin: Staff) -> None:
    bad = admin.post(f"{PAGE}/settings", {"near_position": "0", "reminder_lead_min": "30"})
    assert bad.status_code == 422 and 'value="0"' in bad.get_data(as_text=True)
    ok = admin.post(f"{PAGE}/settings", {"near_position": "5", "reminder_lead_min": "30"})
    assert ok.status_code == 200 and "已保存" in ok.get_data(as_text=True)
    page = admin.get(PAGE).get_data(as_text=True)
    assert 'name="near_position" type="number" min="1" max="50" value="5"' in page
    assert 'name="reminder_lead_min" type="number" min="5" max="10080" value="30"' in page
    # Each change is on the audit page under the admin, before → after; the refused one is not.
    assert audit_rows(admin) == [
        ("admin", "reminder_lead_min", "—", "30"),
        ("admin", "near_position", "3", "5"),
    ]
    admin.post(f"{PAGE}/settings", {"near_position": "5", "reminder_lead_min": "30"})  # no change
    assert len(audit_rows(admin)) == 2


def audit_rows(admin: Staff) -> list[tuple[str, ...]]:
    """(who, setting, before, after) of the audit page's notification-settings rows, newest first."""
    page = admin.get("/admin/audit?action=notify_settings").get_data(as_text=True)
    pattern = (
        r"<td>([^<]+)</td>\s*<td><code>notify_settings</code></td>\s*<td>([^<]+)</td>.*?"
        r'class="old">([^<]*)</span> → <span class="new">([^<]*)</span>'
    )
    return [tuple(row) for row in re.findall(pattern, page, re.S)]


def test_a_plain_post_that_worked_goes_back_to_the_page_with_its_message(admin: Staff) -> None:
    add(admin, "https://crm.example/plain", ["ticket.issued"])
    done = admin.post(f"{PAGE}/settings", {"near_position": "4", "reminder_lead_min": "45"}, htmx=False)
    assert done.status_code == 302 and done.headers["Location"].endswith(PAGE)
    page = admin.get(PAGE).get_data(as_text=True)
    assert "已保存" in page and 'value="45"' in page
    removed = admin.post(f"{PAGE}/1/remove", htmx=False, follow_redirects=True)
    assert "已删除 Webhook 1" in removed.get_data(as_text=True)
