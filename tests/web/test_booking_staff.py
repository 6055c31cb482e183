"""Bookings for staff: the counter sees which waiting tickets are booked (and their slot); staff
check a visitor in by the code; the supervisor sees the day per slot with names and numbers
masked until one is opened, which the audit log keeps."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from queue_engine.core.models import AuditEntry

from .staff_login import log_in
from .test_admin import Staff, html, in_db

# The web clock stands at Monday 5 January 2026, 09:00 in Shanghai; A has 15-minute slots of 4,
# check-in from 30 minutes before the start to 15 after.
NINE_FIFTEEN = "2026-01-05T09:15:00+08:00"
TEN = "2026-01-05T10:00:00+08:00"


@pytest.fixture
def login(app):
    def make(username: str) -> Staff:
        client = app.test_client()
        return Staff(client, log_in(client, username))

    return make


def _book(client, start: str, phone: str = "13812345678", name: str = "张三") -> dict[str, Any]:
    answer = client.post(
        "/api/v1/appointments", json={"service": "A", "start": start, "name": name, "phone": phone}
    )
    assert answer.status_code == 201
    return answer.get_json()


def test_staff_check_a_booking_in_by_code_and_the_counter_list_marks_it_booked_with_its_slot(login, client):
    booking = _book(client, NINE_FIFTEEN)
    client.post("/api/v1/tickets", json={"service": "A"})
    clerk = login("clerk1")

    done = clerk.post("/staff/bookings/check-in", {"code": booking["code"].lower()})

    assert done.status_code == 200 and done.headers["HX-Trigger"] == "bookings-changed"
    assert "已签到" in html(done) and "YA001" in html(done) and 'name="code" value=""' in html(done)
    panel = html(clerk.get("/counter/1/panel"))
    line = panel[panel.index("YA001") :]
    line = line[: line.index("</li>")]
    assert "预约 · booked 09:15" in line
    walk_in = panel[panel.index("A001") :]
    assert "预约" not in walk_in[: walk_in.index("</li>")]
    assert "预约签到 · Check in a booking" in panel
    assert client.get(f"/api/v1/appointments/{booking['token']}").get_json()["status"] == "checked_in"


@pytest.mark.parametrize(
    ("start", "code", "said"),
    [
        (TEN, None, "09:30"),  # too early: check-in opens 30 minutes before
        (NINE_FIFTEEN, "ZZZZZZ", None),  # nobody holds this code
    ],
)
def test_a_refused_check_in_says_why_and_keeps_the_code(login, client, start, code, said):
    booking = _book(client, start)
    clerk = login("clerk1")

    refused = clerk.post("/staff/bookings/check-in", {"code": code or booking["code"]})

    assert refused.status_code == 422
    text = html(refused)
    assert "未签到 · Not checked in" in text and (code or booking["code"]) in text
    if said:
        assert said in text
    assert client.get(f"/api/v1/appointments/{booking['token']}").get_json()["status"] == "booked"


def test_a_second_check_in_of_one_booking_is_refused(login, client):
    booking = _book(client, NINE_FIFTEEN)
    clerk = login("clerk1")
    assert clerk.post("/staff/bookings/check-in", {"code": booking["code"]}).status_code == 200

    again = clerk.post("/staff/bookings/check-in", {"code": booking["code"]})

    assert again.status_code == 422


def test_the_supervisor_sees_the_day_per_slot_with_people_masked_until_one_is_opened(login, client, app):
    first = _book(client, NINE_FIFTEEN, phone="13800000001", name="张三")
    _book(client, NINE_FIFTEEN, phone="13800000002", name="李四")
    cancelled = _book(client, TEN, phone="13800000003", name="王五")
    client.post(f"/api/v1/appointments/{cancelled['token']}/cancel", json={})
    supervisor = login("supervisor")
    assert supervisor.post("/staff/bookings/check-in", {"code": first["code"]}).status_code == 200

    page = html(supervisor.get("/supervisor/bookings"))

    a = page[page.index('data-service="A"') :]
    assert 'class="t-booked">3<' in a and 'class="t-checked-in">1<' in a and 'class="t-cancelled">1<' in a
    assert 'class="t-punctual">100%<' in a  # checked in at 09:00, before the 09:15 start
    slot = a[a.index('data-slot="09:15"') :]
    slot = slot[: slot.index("</tr>")]
    assert 'class="booked">2<' in slot and 'class="checked-in">1<' in slot and 'class="waiting">1<' in slot
    assert "138****0001" in a and "张*" in a and "13800000001" not in page and "李四" not in page

    opened = supervisor.post(f"/supervisor/bookings/{first['code']}/open")

    assert opened.status_code == 200 and "张三 · 13800000001" in html(opened)
    entries = in_db(
        app, select(AuditEntry.action, AuditEntry.target).where(AuditEntry.action == "read_booking")
    )
    assert entries == [("read_booking", f"booking:{first['code']}")]


def test_clerks_may_not_see_the_days_bookings_nor_open_anyones_number(login, client):
    booking = _book(client, NINE_FIFTEEN)
    clerk = login("clerk1")

    assert clerk.get("/supervisor/bookings").status_code == 403
    assert clerk.post(f"/supervisor/bookings/{booking['code']}/open").status_code == 403


def test_the_supervisor_cancels_a_booking_with_a_reason_and_its_place_is_free_again(login, client, app):
    booking = _book(client, NINE_FIFTEEN)
    supervisor = login("supervisor")

    without = supervisor.post(f"/supervisor/bookings/{booking['code']}/cancel", {"reason": "  "})
    assert without.status_code == 422 and "请填写取消原因" in html(without)
    assert client.get(f"/api/v1/appointments/{booking['token']}").get_json()["status"] == "booked"

    done = supervisor.post(
        f"/supervisor/bookings/{booking['code']}/cancel", {"reason": "来电改期 moved by phone"}
    )

    assert done.status_code == 200 and done.headers["HX-Trigger"] == "bookings-changed"
    assert client.get(f"/api/v1/appointments/{booking['token']}").get_json()["status"] == "cancelled"
    slots = client.get("/api/v1/services/A/slots?date=2026-01-05").get_json()
    assert next(s for s in slots if s["start"] == "2026-01-05T01:15:00Z")["free"] == 4
    page = html(supervisor.get("/supervisor/bookings"))
    assert "来电改期 moved by phone" in page and 'class="t-cancelled">1<' in page
    entries = in_db(app, select(AuditEntry.target).where(AuditEntry.action == "cancel_booking"))
    assert entries == [(f"booking:{booking['code']}",)]
    again = supervisor.post(f"/supervisor/bookings/{booking['code']}/cancel", {"reason": "twice"})
    assert again.status_code == 422
