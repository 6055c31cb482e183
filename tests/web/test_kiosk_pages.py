"""The kiosk's HTTP side: issuing, printing, reprinting, refusals and the ticket limit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kiosk.extensions import db
from queue_engine.core.models import Service, Ticket
from queue_engine.hall.calendar import hall_settings


def csrf(client, path="/kiosk"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def screen_key(client, lang="zh"):
    html = client.get(f"/kiosk?lang={lang}").get_data(as_text=True)
    return re.search(r'"key": "([^"]+)"', html).group(1)


def touch(client, service="A", key=None, lang="zh"):
    key = key or screen_key(client, lang)
    token = csrf(client)
    return client.post(
        "/kiosk/tickets",
        data={"service": service, "key": key, "lang": lang},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )


def ticket_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ticket))


def test_a_touch_issues_a_ticket_in_the_screen_language(app, client):
    answer = touch(client, "B", lang="en")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="ticket-number">B001<' in html
    assert "Transactions" in html and "<svg" in html
    with app.app_context():
        assert db.session.scalars(select(Ticket.lang)).one() == "en"


def test_the_same_screen_key_never_gives_two_tickets(app, client):
    key = screen_key(client)
    first = touch(client, "A", key=key).get_data(as_text=True)
    second = touch(client, "B", key=key).get_data(as_text=True)
    assert ticket_count(app) == 1
    assert 'id="ticket-number">A001<' in first and 'id="ticket-number">A001<' in second


def test_a_closed_service_says_so_and_issues_nothing(app, client):
    with app.app_context():
        db.session.scalars(select(Service).where(Service.code == "C")).one().active = False
        db.session.commit()
    page = client.get("/kiosk?lang=en").get_data(as_text=True)
    assert "Not taking numbers now" in page
    answer = touch(client, "C", lang="en")
    assert answer.status_code == 409
    assert "not taking numbers" in answer.get_data(as_text=True)
    assert ticket_count(app) == 0


def test_outside_opening_hours_the_kiosk_is_closed(app, client, clock):
    with app.app_context():
        hall_settings(db.session).opening_hours = {str(d): [["08:30", "17:00"]] for d in range(5)}
        db.session.commit()
    clock.advance(hours=10)  # Monday 19:00 in Shanghai
    page = client.get("/kiosk?lang=en").get_data(as_text=True)
    assert "The hall is closed now" in page
    answer = touch(client, "A", key="a-stale-screen", lang="en")
    assert answer.status_code == 409 and "closed" in answer.get_data(as_text=True)
    assert ticket_count(app) == 0


def test_reprint_works_for_a_minute_only(app, client, clock):
    html = touch(client, "A").get_data(as_text=True)
    token = re.search(r"/kiosk/tickets/([^/]+)/reprint", html).group(1)
    headers = {"X-CSRFToken": csrf(client)}
    clock.advance(seconds=50)
    again = client.post(f"/kiosk/tickets/{token}/reprint", headers=headers)
    assert again.status_code == 200 and 'id="ticket-number">A001<' in again.get_data(as_text=True)
    clock.advance(seconds=20)
    late = client.post(f"/kiosk/tickets/{token}/reprint", headers=headers)
    assert late.status_code == 409
    assert ticket_count(app) == 1


def test_a_server_printer_prints_number_and_qr(app_factory, tmp_path):
    target = tmp_path / "printer.bin"
    app = app_factory(QMS_PRINTER=f"escpos://file{target}")
    client = app.test_client()
    html = touch(client, "A").get_data(as_text=True)
    printed = target.read_bytes()
    assert b"A001" in printed
    assert b"\x1dV" in printed  # the paper is cut after the ticket
    assert "printer is not working" not in html


def test_a_broken_printer_never_blocks_issuing(app_factory, free_tcp_port):
    app = app_factory(QMS_PRINTER=f"escpos://network/127.0.0.1:{free_tcp_port}")
    client = app.test_client()
    answer = touch(client, "A", lang="en")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="ticket-number">A001<' in html
    assert "take a photo of this QR code" in html
    assert ticket_count(app) == 1


@pytest.fixture
def free_tcp_port():
    from tests.live import free_port

    return free_port()


def test_over_the_limit_the_kiosk_asks_to_wait_and_a_registered_kiosk_is_exempt(app_factory):
    app = app_factory(QMS_TICKET_RATE_LIMIT="2/minute")
    visitor = app.test_client()
    assert touch(visitor, "A").status_code == 200
    assert touch(visitor, "A").status_code == 200
    refused = touch(visitor, "A")
    assert refused.status_code == 429
    assert "取号过于频繁" in refused.get_data(as_text=True)
    assert ticket_count(app) == 2

    # The same address, but from the hall's registered kiosk: not limited.
    output = app.test_cli_runner().invoke(args=["register-kiosk", "entrance"]).output
    link = output.strip().splitlines()[-1]
    kiosk = app.test_client()
    assert kiosk.get(link).status_code == 200
    for _ in range(3):
        assert touch(kiosk, "B").status_code == 200
    assert ticket_count(app) == 5
