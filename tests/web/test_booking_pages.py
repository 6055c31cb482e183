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


# -- after booking ---------------------------------------------------------------------------------


def _token(answer) -> str:
    return answer.headers["Location"].split("/b/")[1].split("?")[0]


def test_the_booking_goes_into_the_phones_calendar_as_an_ics_entry(client):
    token = _token(_book(client))

    answer = client.get(f"/b/{token}/calendar.ics")

    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    text = answer.get_data(as_text=True)
    assert "DTSTART:20260105T020000Z\r\n" in text and "DTEND:20260105T021500Z\r\n" in text
    assert "SUMMARY:咨询 · " in text and f"/b/{token}" in text
    assert "13812345678" not in text and "张三" not in text


def test_a_lost_booking_is_found_with_the_phone_number_and_the_code(client):
    confirmation = client.get(_book(client).headers["Location"]).get_data(as_text=True)
    code = re.search(r'id="booking-code">([A-Z0-9]{6})<', confirmation).group(1)
    csrf = page_csrf(client, "/book/find?lang=zh")

    found = client.post(
        "/book/find?lang=zh", data={"csrf_token": csrf, "phone": "138 1234 5678", "code": code}
    )
    wrong = client.post("/book/find?lang=zh", data={"csrf_token": csrf, "phone": "13900000000", "code": code})

    assert found.status_code == 303 and "/b/" in found.headers["Location"]
    assert wrong.status_code == 404 and "没有与此预约码和手机号相符的预约" in wrong.get_data(as_text=True)


def test_the_visitor_moves_the_booking_to_another_time_and_a_full_one_is_refused(client):
    token = _token(_book(client))
    for n in range(4):
        _book(client, start="2026-01-05T03:00:00+00:00", phone=f"1380000000{n}")
    csrf = page_csrf(client, f"/b/{token}/move")

    full = client.post(f"/b/{token}/move", data={"csrf_token": csrf, "start": "2026-01-05T03:00:00+00:00"})
    moved = client.post(f"/b/{token}/move", data={"csrf_token": csrf, "start": "2026-01-05T03:15:00+00:00"})

    assert full.status_code == 409 and "该时段已约满" in full.get_data(as_text=True)
    assert moved.status_code == 303
    assert "11:15–11:30" in client.get(f"/b/{token}").get_data(as_text=True)


def test_once_checked_in_the_booking_link_opens_the_live_ticket(client, clock):
    token = _token(_book(client))
    clock.set(datetime(2026, 1, 5, 1, 40, tzinfo=UTC))
    csrf = page_csrf(client, f"/b/{token}")
    client.post(f"/b/{token}/check-in", data={"csrf_token": csrf})

    answer = client.get(f"/b/{token}")

    assert answer.status_code == 303 and answer.headers["Location"].startswith("/t/")


def test_the_public_hall_page_says_open_waiting_and_the_next_free_booking_times(client, take_ticket):
    take_ticket("B")

    page = client.get("/hall?lang=zh").get_data(as_text=True)

    assert "正在办公" in page and "办理" in page
    assert "周一 09:00" in page  # the next free times of A, the bookable service
    assert re.search(r"<th scope=\"row\">办理</th>\s*<td>1</td>", page)
