"""The rules of the hall's set-up on the engine: values refused, history kept, admins kept, and
the configuration file's round trip and refusals.  (Old databases: tests/web/test_migrations.py.)"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from queue_engine import book, issue_ticket
from queue_engine.booking import BookingSettings
from queue_engine.core.kinds import Role
from queue_engine.core.models import AuditEntry, Counter, Hall, Service, counter_services
from queue_engine.hall.admin import remove_counter, remove_service, save_counter, save_service
from queue_engine.hall.calendar import hall_settings
from queue_engine.hall.config_io import ConfigInvalid, check_config, dump_config, export_config, import_config
from queue_engine.hall.rules import SettingsInvalid, clean_hall, clean_service, parse_hours_text
from queue_engine.hall.staff import update_user

SERVICE = {
    "code": "A",
    "prefix": "A",
    "start_number": 1,
    "names": {"zh": "咨询", "en": "Inquiry"},
    "category": "inquiry",
    "target_wait_min": 10,
    "active": True,
    "sort_order": 0,
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "A B"}, "code"),
        ({"prefix": "ABCDE"}, "prefix"),
        ({"prefix": "1"}, "prefix"),
        ({"start_number": 0}, "start_number"),
        ({"start_number": True}, "start_number"),
        ({"start_number": 2.5}, "start_number"),
        ({"names": {"zh": "咨询"}}, "names.en"),
        ({"names": "Inquiry"}, "names"),
        ({"category": "vip"}, "category"),
        ({"target_wait_min": 0}, "target_wait_min"),
        ({"active": "maybe"}, "active"),
        ({"sort_order": -1}, "sort_order"),
    ],
)
def test_service_values_refused(changes, field):
    _values, errors = clean_service({**SERVICE, **changes})
    assert field in errors


def test_service_values_normalised():
    values, errors = clean_service({**SERVICE, "code": " a1 ", "prefix": "b", "start_number": "7"})
    assert errors == {}
    assert (values["code"], values["prefix"], values["start_number"]) == ("A1", "B", 7)


@pytest.mark.parametrize(
    ("typed", "intervals"),
    [
        ("08:30-12:00, 13:30-17:30", [["08:30", "12:00"], ["13:30", "17:30"]]),
        ("08:30 - 12:00；13:30~17:30", [["08:30", "12:00"], ["13:30", "17:30"]]),
        ("", []),
        ("nonsense", [["nonsense", ""]]),  # kept for the validation to name it
    ],
)
def test_hours_as_typed(typed, intervals):
    assert parse_hours_text(typed) == intervals


def test_hall_intervals_are_sorted_and_dates_deduplicated():
    values, errors = clean_hall(
        {
            "name": {"zh": "大厅"},
            "timezone": "Asia/Shanghai",
            "languages": ["en", "zh"],
            "opening_hours": {"0": [["13:30", "17:30"], ["08:30", "12:00"]], "6": []},
            "closed_dates": ["2026-10-02", "2026-10-01", "2026-10-02"],
            "priority_policy": "every_n",
            "priority_every_n": 2,
            "kiosk_ticket_seconds": 8,
            "day_close_delay_min": 0,
        }
    )
    assert errors == {}
    assert values["opening_hours"] == {"0": [["08:30", "12:00"], ["13:30", "17:30"]]}
    assert values["closed_dates"] == ["2026-10-01", "2026-10-02"]


def test_two_open_services_may_not_share_a_prefix(session, clock, make_service):
    make_service("A")
    with pytest.raises(SettingsInvalid) as refused:
        save_service(session, clock, None, {**SERVICE, "code": "A2"})
    assert set(refused.value.errors) == {"prefix"}
    session.rollback()
    # a closed service may keep the prefix, and the code stays unique all the same
    assert save_service(session, clock, None, {**SERVICE, "code": "A2", "active": False}).prefix == "A"


def test_a_used_service_and_counter_are_deactivated_an_unused_one_deleted(
    session, clock, make_service, make_counter, make_user
):
    actor = make_user("boss", Role.ADMIN).id
    used, unused = make_service("A", served=False), make_service("B", served=False)
    counter = make_counter("1", [used, unused])
    spare = make_counter("2", [unused])
    issue_ticket(session, clock, "A")
    session.commit()
    assert remove_service(session, clock, actor, used.id) == "deactivated"
    assert remove_service(session, clock, actor, unused.id) == "deleted"
    assert remove_counter(session, clock, actor, spare.id) == "deleted"
    session.commit()
    assert session.scalars(select(Service.code)).all() == ["A"]
    assert session.get(Service, used.id).active is False
    assert session.execute(select(counter_services)).all() == [(counter.id, used.id)]
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["deactivate_service", "delete_service", "delete_counter"]


def test_counter_names_are_unique_whatever_their_case(session, clock, make_service, make_counter):
    a = make_service("A")
    make_counter("VIP", [a])
    with pytest.raises(SettingsInvalid) as refused:
        save_counter(session, clock, None, {"name": "vip", "services": ["A"], "active": True})
    assert set(refused.value.errors) == {"name"}


def test_the_last_active_admin_stays_one(session, clock, make_user):
    admin, other = make_user("boss", Role.ADMIN), make_user("deputy", Role.ADMIN)
    update_user(session, clock, admin.id, other.id, {"display_name": "", "role": "clerk", "active": True})
    session.commit()
    with pytest.raises(SettingsInvalid):
        update_user(session, clock, other.id, admin.id, {"display_name": "", "role": "clerk", "active": True})
    session.rollback()
    assert session.get(type(admin), admin.id).role == Role.ADMIN


# -- the configuration file -------------------------------------------------------------------


def _set_up(session, clock, make_service, make_counter):
    a = make_service("A", sort_order=1, served=False)
    b = make_service("B", sort_order=2, active=False, start_number=50, served=False)
    make_counter("1", [a, b])
    make_counter("Desk 2", [b]).active = False
    hall = hall_settings(session)
    hall.opening_hours = {"0": [["08:30", "17:30"]]}
    hall.closed_dates = ["2026-10-01"]
    hall.timezone, hall.languages = "Asia/Urumqi", ["zh"]
    hall.priority_policy, hall.priority_every_n = "every_n", 4
    session.commit()


def _without_stamp(config):
    return {k: v for k, v in config.items() if k != "exported_at"}


def test_export_then_import_into_an_emptied_database(session, clock, make_service, make_counter):
    _set_up(session, clock, make_service, make_counter)
    text_ = dump_config(export_config(session, clock))
    session.rollback()
    for table in (counter_services, Counter.__table__, Service.__table__, Hall.__table__):
        session.execute(delete(table))
    session.commit()

    summary = import_config(session, clock, None, json.loads(text_))
    session.commit()

    assert summary.created == {"services": ["A", "B"], "counters": ["1", "Desk 2"]}
    assert _without_stamp(export_config(session, clock)) == _without_stamp(json.loads(text_))
    # importing the same file again changes nothing but writes its audit row
    again = import_config(session, clock, None, json.loads(text_))
    assert again.created == again.updated == again.deactivated == {"services": [], "counters": []}


def test_what_the_file_lacks_is_deactivated_not_deleted(session, clock, make_service, make_counter):
    _set_up(session, clock, make_service, make_counter)
    config = export_config(session, clock)
    config["services"] = [s for s in config["services"] if s["code"] == "B"]
    config["services"][0]["active"] = True
    config["counters"] = [{"name": "Desk 2", "services": ["B"], "active": True}]
    summary = import_config(session, clock, None, config)
    session.commit()
    assert summary.deactivated == {"services": ["A"], "counters": ["1"]}
    assert session.execute(select(Service.code, Service.active).order_by(Service.code)).all() == [
        ("A", False),
        ("B", True),
    ]


def test_a_broken_file_is_refused_whole(session, clock, make_service, make_counter):
    _set_up(session, clock, make_service, make_counter)
    config = export_config(session, clock)
    config["hall"]["name"] = {"zh": "新", "en": "New"}
    config["services"][0]["names"]["en"] = "Renamed"
    config["counters"][1]["services"] = ["Z"]
    config["hall"]["priority_every_n"] = 0
    before = export_config(session, clock)
    with pytest.raises(ConfigInvalid) as refused:
        import_config(session, clock, None, config)
    session.rollback()
    assert refused.value.errors == [
        "hall.priority_every_n: A whole number from 1 to 50. · 请填写 1 到 50 之间的整数。",
        "counters[1].services: Unknown services: Z. · 未知业务：Z。",
    ]
    assert _without_stamp(export_config(session, clock)) == _without_stamp(before)
    assert session.scalars(select(AuditEntry)).all() == []


def test_check_config_reports_every_problem_at_once():
    with pytest.raises(ConfigInvalid) as refused:
        check_config({"format": "x", "version": 2, "hall": {}, "services": [{}], "counters": "no"})
    assert len(refused.value.errors) == 4


def test_a_bookable_service_never_booked_is_deleted_with_its_booking_settings_a_booked_one_deactivated(
    session, clock, make_service, make_user
):
    actor = make_user("boss", Role.ADMIN).id
    booked, unbooked = make_service("A", served=False), make_service("B", served=False)
    for service in (booked, unbooked):
        session.add(BookingSettings(service_id=service.id, bookable=True, capacity=2))
    session.commit()
    start = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    book(session, clock, "A", start, name="张三", phone="13812345678")
    session.commit()

    assert remove_service(session, clock, actor, unbooked.id) == "deleted"
    assert remove_service(session, clock, actor, booked.id) == "deactivated"
    session.commit()

    assert session.scalars(select(Service.code)).all() == ["A"]
    assert session.scalars(select(BookingSettings.service_id)).all() == [booked.id]
