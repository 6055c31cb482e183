"""Bookings over the API, as DESIGN §7 states them, on the demo hall (A: 15-minute slots of 4)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.web.helpers import error_of

# The web clock stands at Monday 5 January 2026, 09:00 in Shanghai (01:00 UTC).
TEN = "2026-01-05T10:00:00+08:00"
TEN_UTC = "2026-01-05T02:00:00Z"


def _book(client, start=TEN, phone="13812345678", **extra):
    return client.post(
        "/api/v1/appointments", json={"service": "A", "start": start, "name": "张三", "phone": phone, **extra}
    )


def test_the_demo_hall_offers_a_day_of_15_minute_slots_of_4_for_service_a(client):
    slots = client.get("/api/v1/services/A/slots?date=2026-01-05").get_json()

    assert len(slots) == 96  # no opening hours: around the clock
    ten = next(s for s in slots if s["start"] == TEN_UTC)
    assert ten == {
        "start": TEN_UTC,
        "end": "2026-01-05T02:15:00Z",
        "capacity": 4,
        "booked": 0,
        "free": 4,
        "open": True,
    }
    assert not next(s for s in slots if s["start"] == "2026-01-05T00:45:00Z")["open"]  # 08:45: past


def test_booking_answers_201_with_a_code_and_the_check_in_window_and_masks_the_phone(client):
    response = _book(client)

    assert response.status_code == 201
    booking = response.get_json()
    assert booking["status"] == "booked" and len(booking["code"]) == 6
    assert (booking["start"], booking["end"]) == (TEN_UTC, "2026-01-05T02:15:00Z")
    assert (booking["check_in_from"], booking["check_in_until"]) == (
        "2026-01-05T01:30:00Z",
        "2026-01-05T02:15:00Z",
    )
    assert booking["phone"] == "138****5678" and booking["name"] == "张*"
    held = client.get(f"/api/v1/appointments/{booking['token']}").get_json()
    assert held["phone"] == "138****5678" and held["code"] == booking["code"]
    ten = next(
        s for s in client.get("/api/v1/services/A/slots?date=2026-01-05").get_json() if s["start"] == TEN_UTC
    )
    assert (ten["booked"], ten["free"]) == (1, 3)


def test_a_fifth_booking_of_a_slot_is_409_slot_full_and_a_second_of_one_phone_409_already_booked(client):
    for n in range(4):
        assert _book(client, phone=f"1380000000{n}").status_code == 201

    full = _book(client, phone="13800000009")
    twice = _book(client, start="2026-01-05T11:00:00+08:00", phone="13800000001")

    assert (full.status_code, error_of(full)["code"]) == (409, "slot_full")
    assert (twice.status_code, error_of(twice)["code"]) == (409, "already_booked")


def test_outside_the_bookable_range_is_422_and_bad_fields_name_the_field(client):
    past = _book(client, start="2026-01-05T08:00:00+08:00")
    far = _book(client, start="2026-01-20T10:00:00+08:00")
    odd = _book(client, start="2026-01-05T10:05:00+08:00")
    phone = _book(client, phone="12345")
    naive = _book(client, start="2026-01-05T10:00:00")

    assert [r.status_code for r in (past, far, odd)] == [422, 422, 422]
    assert {error_of(r)["code"] for r in (past, far, odd)} == {"booking_closed"}
    assert (phone.status_code, error_of(phone)["code"]) == (422, "invalid_input")
    assert "phone" in error_of(phone)["message"]
    assert (naive.status_code, error_of(naive)["code"]) == (422, "invalid_input")
    assert "offset" in error_of(naive)["message"]


def test_a_service_that_takes_no_bookings_says_so(client):
    response = client.get("/api/v1/services/B/slots?date=2026-01-05")
    assert (response.status_code, error_of(response)["code"]) == (422, "booking_closed")


def test_check_in_from_the_phone_gives_a_booked_ticket_that_queues_from_the_slot(client, clock, take_ticket):
    booking = _book(client).get_json()
    early = client.post(f"/api/v1/appointments/{booking['token']}/check-in")
    clock.set(datetime(2026, 1, 5, 1, 50, tzinfo=UTC))  # 09:50
    walk_in = take_ticket("A")
    clock.set(datetime(2026, 1, 5, 2, 5, tzinfo=UTC))  # 10:05, inside the window
    later = take_ticket("A")

    checked = client.post(f"/api/v1/appointments/{booking['token']}/check-in")
    again = client.post(f"/api/v1/appointments/{booking['token']}/check-in")

    assert (early.status_code, error_of(early)["code"]) == (409, "too_early")
    assert checked.status_code == 201
    ticket = checked.get_json()
    assert ticket["number"] == "YA001" and ticket["status"] == "waiting"
    # Its place: after the walk-in who came before 10:00, ahead of the one who came at 10:05.
    assert ticket["position"] == 2
    assert client.get(f"/api/v1/tickets/{later['token']}").get_json()["position"] == 3
    assert client.get(f"/api/v1/tickets/{walk_in['token']}").get_json()["position"] == 1
    assert (again.status_code, error_of(again)["code"]) == (409, "already_checked_in")
    assert client.get(f"/api/v1/appointments/{booking['token']}").get_json()["ticket"]["number"] == "YA001"


def test_check_in_by_code_is_for_staff_and_registered_kiosks_only(client, clock, auth):
    booking = _book(client).get_json()
    clock.set(datetime(2026, 1, 5, 1, 45, tzinfo=UTC))  # 09:45

    anonymous = client.post("/api/v1/appointments/check-in", json={"code": booking["code"]})
    staff = client.post(
        "/api/v1/appointments/check-in", json={"code": booking["code"].lower()}, headers=auth("clerk1")
    )
    unknown = client.post("/api/v1/appointments/check-in", json={"code": "ZZZZZZ"}, headers=auth("clerk1"))

    assert (anonymous.status_code, error_of(anonymous)["code"]) == (401, "unauthorized")
    assert staff.status_code == 201 and staff.get_json()["number"] == "YA001"
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "unknown_booking")


def test_cancel_frees_the_place_and_a_cancelled_booking_cannot_check_in(client):
    booking = _book(client).get_json()

    cancelled = client.post(f"/api/v1/appointments/{booking['token']}/cancel")
    check_in = client.post(f"/api/v1/appointments/{booking['token']}/check-in")

    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert (check_in.status_code, error_of(check_in)["code"]) == (409, "invalid_transition")
    ten = next(
        s for s in client.get("/api/v1/services/A/slots?date=2026-01-05").get_json() if s["start"] == TEN_UTC
    )
    assert ten["free"] == 4


def test_staff_list_the_day_clerks_masked_supervisors_in_full_and_audited(client, auth, app):
    _book(client)

    clerk = client.get("/api/v1/appointments?date=2026-01-05", headers=auth("clerk1")).get_json()
    supervisor = client.get("/api/v1/appointments?service=A", headers=auth("supervisor")).get_json()
    anonymous = client.get("/api/v1/appointments")

    assert [b["phone"] for b in clerk] == ["138****5678"]
    assert [(b["name"], b["phone"]) for b in supervisor] == [("张三", "13812345678")]
    assert anonymous.status_code == 401
    from kiosk.extensions import db
    from queue_engine.core.models import AuditEntry

    with app.app_context():
        assert [e.action for e in db.session.query(AuditEntry).filter_by(action="read_bookings")] == [
            "read_bookings"
        ]
