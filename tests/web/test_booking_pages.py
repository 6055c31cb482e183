"""Booking on the phone (/book, /b/<token>), in the hall's languages, on the demo hall."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.web.staff_login import page_csrf

TEN = "2026-01-05T02:00:00+00:00"  # Monday 10:00 in Shanghai; the clock stands at 09:00


def _book(client, start=TEN, phone="13812345678", name="张三", lang="zh"):
    csrf = page_csrf(client, f"/book/A?lang={lang}")
    return client.post(
        f"/book/A?lang={lang}", data={"csrf_token": csrf, "start": start, "name": name, "phone": phone}
    )


def test_the_booking_page_offers_the_bookable_service_and_its_free_places(client):
    services = client.get("/book?lang=zh").get_data(as_text=True)
    slots = client.get("/book/A?lang=zh").get_data(as_text=True)

    assert "咨询" in services and "办理" not in services  # only A takes bookings
    assert "10:00" in slots and "余 4" in slots
    assert ">08:45<" not in slots and ">09:00<" in slots  # the slots already over today are left out


def test_booking_leads_to_the_confirmation_with_the_code_and_check_in_window(client):
    answer = _book(client)

    assert answer.status_code == 303 and "/b/" in answer.headers["Location"]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    code = re.search(r'id="booking-code">([A-Z0-9]{6})<', page)
    assert code, page[:500]
    assert "已预约" in page and "09:30 至 10:15" in page
    assert "138****5678" in page and "13812345678" not in page and "张三" not in page
    assert "<svg" in page  # the QR code for the kiosk


def test_a_refusal_is_said_on_the_form_in_the_visitors_language_and_keeps_what_was_typed(client):
    for n in range(4):
        assert _book(client, phone=f"1380000000{n}").status_code == 303

    full = _book(client, phone="13900000000", name="李四")
    english = _book(client, phone="12345", lang="en")

    assert full.status_code == 409
    text = full.get_data(as_text=True)
    assert "该时段已约满" in text and 'value="李四"' in text and 'value="13900000000"' in text
    assert english.status_code == 409
    assert "Please enter a mobile number" in english.get_data(as_text=True)


def test_check_in_from_the_phone_inside_the_window_opens_the_ticket_page(client, clock):
    location = _book(client).headers["Location"]
    token = location.split("/b/")[1].split("?")[0]
    early = client.get(location).get_data(as_text=True)
    clock.set(datetime(2026, 1, 5, 1, 40, tzinfo=UTC))  # 09:40
    csrf = page_csrf(client, f"/b/{token}")

    answer = client.post(f"/b/{token}/check-in", data={"csrf_token": csrf})
    again = client.post(f"/b/{token}/check-in", data={"csrf_token": csrf})

    assert "我已到达，签到" not in early  # 09:00: the window opens at 09:30
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/t/")
    assert "YA001" in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert again.status_code == 303 and again.headers["Location"] == answer.headers["Location"]


def test_cancelling_from_the_phone_frees_the_place(client):
    token = _book(client).headers["Location"].split("/b/")[1].split("?")[0]
    csrf = page_csrf(client, f"/b/{token}")

    answer = client.post(f"/b/{token}/cancel", data={"csrf_token": csrf})

    assert answer.status_code == 303
    assert "已取消" in client.get(f"/b/{token}").get_data(as_text=True)
    assert "余 4" in client.get("/book/A?lang=zh").get_data(as_text=True)


def test_an_unknown_booking_link_is_a_friendly_404(client):
    answer = client.get("/b/nonsense?lang=zh")
    assert answer.status_code == 404 and "没有此链接对应的预约" in answer.get_data(as_text=True)


# -- the kiosk: "I have a booking" ---------------------------------------------------------------


def _kiosk_check_in(client, code):
    csrf = page_csrf(client, "/kiosk")
    return client.post("/kiosk/check-in", data={"code": code, "lang": "zh"}, headers={"X-CSRFToken": csrf})


def test_the_kiosk_checks_a_booking_in_by_its_code_or_its_qr_and_prints_the_booked_number(client, clock):
    location = _book(client).headers["Location"]
    confirmation = client.get(location).get_data(as_text=True)
    code = re.search(r'id="booking-code">([A-Z0-9]{6})<', confirmation).group(1)
    kiosk = client.get("/kiosk?lang=zh").get_data(as_text=True)
    early = _kiosk_check_in(client, code)
    clock.set(datetime(2026, 1, 5, 1, 45, tzinfo=UTC))  # 09:45

    typed = _kiosk_check_in(client, f" {code[:3].lower()}-{code[3:]} ")
    scanned = _kiosk_check_in(client, f"http://hall.example{location}")

    assert "我有预约" in kiosk and "我有预约" in client.get("/kiosk/check-in?lang=zh").get_data(as_text=True)
    assert early.status_code == 409 and "09:30 起可签到" in early.get_data(as_text=True)
    assert typed.status_code == 200 and 'id="ticket-number">YA001<' in typed.get_data(as_text=True)
    # Scanned again: the same ticket, printed again.
    assert scanned.status_code == 200 and 'id="ticket-number">YA001<' in scanned.get_data(as_text=True)


def test_the_kiosk_says_plainly_when_a_code_is_wrong_and_keeps_it_to_correct(client):
    answer = _kiosk_check_in(client, "ZZZZZ9")

    assert answer.status_code == 409
    text = answer.get_data(as_text=True)
    assert "没有此预约码" in text and 'value="ZZZZZ9"' in text
