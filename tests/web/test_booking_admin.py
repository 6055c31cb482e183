"""The admin's booking settings (预约设置 · Bookings) on the services page: saved, refused field by
field with nothing changed, audited; the default places from history shown; slots ahead follow."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import select

from queue_engine.booking.models import BookingSettings
from queue_engine.core.models import AuditEntry

from .staff_login import log_in
from .test_admin import Staff, html, in_db, service_id

TEN = "2026-01-05T10:00:00+08:00"  # the web clock stands at 09:00 that Monday


@pytest.fixture
def admin(app) -> Staff:
    """The demo admin, logged in."""
    client = app.test_client()
    return Staff(client, log_in(client, "admin"))


def booking_form(**changes: Any) -> dict[str, Any]:
    """Service A's booking settings in the demo hall, as the form posts them, some changed."""
    form = {
        "bookable": "on",
        "slot_minutes": "15",
        "capacity": "4",
        "capacity_overrides": "",
        "days_ahead": "7",
        "cutoff_minutes": "0",
        "checkin_before_min": "30",
        "checkin_after_min": "15",
        "noshow_limit": "3",
        "noshow_block_days": "30",
        "prefix": "",
        "weekday": "0",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def settings_of(app, code: str = "A") -> BookingSettings:
    rows = in_db(app, select(BookingSettings).where(BookingSettings.service_id == service_id(app, code)))
    return rows[0][0]


def test_the_services_page_shows_each_services_booking_settings_and_the_default_beside_them(admin, app):
    page = html(admin.get("/admin/services"))

    assert "预约设置 · Bookings" in page
    a = page[page.index(f'id="booking-{service_id(app, "A")}"') :]
    a = a[: a.index("</form>")]
    assert 'name="bookable" checked' in a and 'name="slot_minutes" value="15"' in a
    assert 'name="capacity" value="4"' in a
    assert "Default per slot · 默认每时段名额" in a and 'data-hour="9"' in a  # around the clock: every hour
    assert "YA001" in a


def test_a_save_is_audited_and_the_slots_ahead_take_the_new_capacity(admin, app, client):
    assert (
        client.post(
            "/api/v1/appointments",
            json={"service": "A", "start": TEN, "name": "张三", "phone": "13812345678"},
        ).status_code
        == 201
    )
    sid = service_id(app, "A")

    form = booking_form(capacity="6", prefix="YY", capacity_overrides="Mon 10 = 2")
    response = admin.post(f"/admin/services/{sid}/booking", form)

    assert response.status_code == 200 and "Saved. · 已保存。" in html(response)
    settings = settings_of(app)
    assert (settings.capacity, settings.prefix, settings.capacity_overrides) == (6, "YY", {"0:10": 2})
    slots = client.get("/api/v1/services/A/slots?date=2026-01-05").get_json()
    ten = next(s for s in slots if s["start"] == "2026-01-05T02:00:00Z")
    assert (ten["capacity"], ten["booked"], ten["free"]) == (2, 1, 1)  # the booked slot follows the override
    eleven = next(s for s in slots if s["start"] == "2026-01-05T03:00:00Z")
    assert eleven["capacity"] == 6
    entry = in_db(app, select(AuditEntry).where(AuditEntry.action == "update_booking_settings"))[-1][0]
    assert entry.target == "service:A" and entry.before["capacity"] == 4 and entry.after["capacity"] == 6


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slot_minutes", "0"),
        ("slot_minutes", "abc"),
        ("capacity", "-1"),
        ("days_ahead", "400"),
        ("cutoff_minutes", "x"),
        ("checkin_before_min", "1000"),
        ("noshow_limit", "-2"),
        ("noshow_block_days", "0"),  # the rule on (3 misses) but blocking for no day
        ("prefix", "Y1"),
        ("prefix", "A"),  # service A prints A001 already
        ("capacity_overrides", "Mon 25 = 3"),
        ("capacity_overrides", "someday 09 = 3"),
        ("capacity_overrides", "Mon 09 = lots"),
    ],
)
def test_nonsense_is_refused_by_its_field_typed_text_kept_nothing_changed(admin, app, field, value):
    before = settings_of(app)
    sid = service_id(app, "A")

    response = admin.post(f"/admin/services/{sid}/booking", booking_form(**{"capacity": "9", field: value}))

    assert response.status_code == 422
    page = html(response)
    assert "未保存" in page and f'name="{field}"' in page and value in page
    assert 'aria-invalid="true"' in page
    after = settings_of(app)
    assert (after.capacity, after.prefix, after.capacity_overrides) == (
        before.capacity, before.prefix, before.capacity_overrides)  # fmt: skip


def test_an_empty_capacity_takes_the_default_from_history_and_the_table_says_so(admin, app, client):
    sid = service_id(app, "A")

    response = admin.post(f"/admin/services/{sid}/booking", booking_form(capacity=""))

    assert response.status_code == 200
    assert settings_of(app).capacity is None
    page = html(response)
    row = page[page.index('data-hour="10"') :]
    row = row[: row.index("</tr>")]
    default = row.split('class="default-places">')[1].split("<")[0]
    in_effect = row.split('class="places-in-effect">')[1].split("<")[0].strip()
    assert default == in_effect
    ten = next(
        s for s in client.get("/api/v1/services/A/slots?date=2026-01-05").get_json()
        if s["start"] == "2026-01-05T02:00:00Z"
    )  # fmt: skip
    assert ten["capacity"] == int(default)


def test_choosing_a_weekday_shows_its_defaults_with_what_was_typed_kept(admin, app):
    sid = service_id(app, "A")

    response = admin.client.get(
        f"/admin/services/{sid}/booking", query_string=booking_form(weekday="6", capacity="7"),
        headers={"HX-Request": "true"},
    )  # fmt: skip

    page = html(response)
    assert response.status_code == 200
    assert 'value="6" selected' in page and 'name="capacity" value="7"' in page
    assert "(your figure · 固定名额)" in page


def test_a_service_that_never_took_bookings_can_be_made_bookable(admin, app, client):
    sid = service_id(app, "B")

    response = admin.post(f"/admin/services/{sid}/booking", booking_form(capacity="2"))

    assert response.status_code == 200
    slots = client.get("/api/v1/services/B/slots?date=2026-01-05").get_json()
    assert slots and slots[-1]["capacity"] == 2


# -- the configuration file -----------------------------------------------------------------


def _import(admin, config: dict[str, Any]) -> Any:
    upload = json.dumps(config, ensure_ascii=False).encode()
    return admin.post("/admin/config", {"mode": "import", "file": (io.BytesIO(upload), "hall.json")})


def test_the_configuration_file_carries_the_booking_settings_both_ways(admin, app):
    config = json.loads(html(admin.get("/admin/config.json")))
    a = next(s for s in config["services"] if s["code"] == "A")
    assert a["booking"]["bookable"] is True and a["booking"]["capacity"] == 4
    assert a["booking"]["slot_minutes"] == 15 and a["booking"]["checkin_before_min"] == 30

    a["booking"].update(capacity=None, capacity_overrides={"2:9": 1}, prefix="YK")
    done = _import(admin, config)

    assert done.status_code == 200 and "Imported" in html(done)
    settings = settings_of(app)
    assert (settings.capacity, settings.capacity_overrides, settings.prefix) == (None, {"2:9": 1}, "YK")


def test_a_file_from_before_bookings_still_imports_and_keeps_the_booking_settings(admin, app):
    config = json.loads(html(admin.get("/admin/config.json")))
    for service in config["services"]:
        service.pop("booking", None)
        service["names"]["en"] += "!"

    done = _import(admin, config)

    assert done.status_code == 200 and "Imported" in html(done)
    assert settings_of(app).bookable and settings_of(app).capacity == 4


def test_a_file_with_wrong_booking_settings_is_refused_whole(admin, app):
    config = json.loads(html(admin.get("/admin/config.json")))
    a = next(s for s in config["services"] if s["code"] == "A")
    a["booking"]["slot_minutes"] = 0
    a["names"]["en"] = "Changed"

    refused = _import(admin, config)

    assert "services[0].booking.slot_minutes" in html(refused)
    assert settings_of(app).slot_minutes == 15
    assert "Changed" not in html(admin.get("/admin/config.json"))


def test_a_service_taking_no_bookings_shows_its_defaults_once_a_weekday_is_chosen(admin, app):
    sid = service_id(app, "B")
    page = html(admin.get("/admin/services"))
    b = page[page.index(f'id="booking-{sid}"') :]
    b = b[: b.index("</form>")]
    assert "Choose a weekday" in b and "data-hour" not in b

    chosen = admin.client.get(
        f"/admin/services/{sid}/booking", query_string={"weekday": "2"}, headers={"HX-Request": "true"}
    )

    assert chosen.status_code == 200 and 'data-hour="9"' in html(chosen) and "open" in html(chosen)
