"""Events the passing of time causes (DESIGN §11): a booking's reminder and an overdue case, once each.

Once holds when two workers scan at the same moment (two threads, each its own session, on
SQLite and PostgreSQL): the receiver would otherwise get the reminder twice, under two ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from queue_engine import VisitRecord, book, call_next, cancel_booking, finish_visit, issue_ticket, rate_visit
from queue_engine.booking import BookingSettings
from queue_engine.booking.changes import reschedule
from queue_engine.core.models import RectificationCase
from queue_engine.notify.models import OutboxMessage
from queue_engine.notify.scheduled import due_scheduled, set_reminder_lead_min
from queue_engine.notify.webhooks import subscribe
from tests.engine.test_concurrency import run_threads

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = {str(d): [["09:00", "12:00"], ["13:30", "17:00"]] for d in range(5)}


def at(hhmm: str, day: int = 0) -> datetime:
    """A moment of Monday 5 January 2026 (or ``day`` days later), hall time, as UTC."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 1, 5 + day, hours, minutes, tzinfo=SHANGHAI).astimezone(UTC)


def rows(session: Session, event: str) -> list[OutboxMessage]:
    session.rollback()
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.event == event)))


@pytest.fixture
def bookable(session, clock, make_service, configure_hall):
    """Service A takes bookings (30-minute slots); the clock stands at Monday 08:00."""
    configure_hall(opening_hours=HOURS)
    service = make_service("A")
    session.add(BookingSettings(service_id=service.id, bookable=True, slot_minutes=30, capacity=5))
    session.commit()
    clock.set(at("08:00"))
    return service


@pytest.fixture
def listening(session, clock):
    """Two subscriptions to reminders and overdue cases: one trusted with personal data, one not."""
    made = [
        subscribe(session, clock.now(), f"http://127.0.0.1:9/{i}", ["appointment.reminder", "case.overdue"],
                  trusted_for_personal_data=trusted, actor_id=None)
        for i, trusted in enumerate((False, True))
    ]  # fmt: skip
    session.commit()
    return made


def test_the_reminder_goes_once_at_the_lead_time_with_personal_data_only_when_trusted(
    session, clock, bookable, listening
):
    booking = book(session, clock, "A", at("11:00"), name="张三", phone="13812345678")
    session.commit()
    clock.set(at("09:59"))
    assert due_scheduled(session, clock) == 0  # 61 minutes before the slot: not yet
    clock.set(at("10:00"))
    assert due_scheduled(session, clock) == 1
    assert due_scheduled(session, clock) == 0
    clock.advance(minutes=30)
    assert due_scheduled(session, clock) == 0
    sent = {m.subscription_id: m for m in rows(session, "appointment.reminder")}
    untrusted, trusted = listening
    assert set(sent) == {untrusted.id, trusted.id}
    assert sent[untrusted.id].payload["appointment"]["code"] == booking.code
    assert sent[untrusted.id].payload["appointment"]["start"] == "2026-01-05T03:00:00Z"
    assert "personal" not in sent[untrusted.id].payload
    assert sent[trusted.id].payload["personal"] == {"name": "张三", "phone": "13812345678"}
    assert sent[untrusted.id].uid != sent[trusted.id].uid


def test_two_workers_scanning_at_once_write_the_reminder_once(
    session, session_factory: sessionmaker[Session], clock, bookable, listening
):
    for i in range(3):
        book(session, clock, "A", at("11:00"), name="李四", phone=f"1391234567{i}")
    session.commit()
    clock.set(at("10:30"))
    written: list[int] = []

    def scan(_i: int) -> None:
        with session_factory() as own:
            written.append(due_scheduled(own, clock))

    run_threads(2, scan)
    assert sorted(written) == [0, 3]
    reminders = rows(session, "appointment.reminder")
    assert len(reminders) == 3 * 2  # three bookings, two subscriptions, once each
    assert len({(m.ref, m.subscription_id) for m in reminders}) == 6


def test_no_reminder_for_a_booking_made_inside_the_window_or_cancelled(session, clock, bookable, listening):
    clock.set(at("09:30"))
    book(session, clock, "A", at("10:30"), name="王五", phone="13700000001")  # 60 min ahead
    cancelled = book(session, clock, "A", at("11:30"), name="赵六", phone="13700000002")
    session.commit()
    cancel_booking(session, clock, cancelled)
    session.commit()
    clock.set(at("10:35"))
    assert due_scheduled(session, clock) == 0
    assert rows(session, "appointment.reminder") == []


def test_a_moved_booking_is_reminded_of_its_new_slot(session, clock, bookable, listening):
    booking = book(session, clock, "A", at("10:00"), name="张三", phone="13812345678")
    session.commit()
    clock.set(at("09:00"))
    assert due_scheduled(session, clock) == 1
    reschedule(session, clock, booking, at("15:00"))
    session.commit()
    clock.set(at("14:10"))
    assert due_scheduled(session, clock) == 1
    starts = sorted(m.payload["appointment"]["start"][:16] for m in rows(session, "appointment.reminder"))
    assert starts == ["2026-01-05T02:00"] * 2 + ["2026-01-05T07:00"] * 2


def test_the_halls_lead_time_replaces_the_default(session, clock, bookable, listening):
    book(session, clock, "A", at("11:00"), name="张三", phone="13812345678")
    set_reminder_lead_min(session, 15, clock.now(), None)
    session.commit()
    clock.set(at("10:30"))
    assert due_scheduled(session, clock, default_lead_min=60) == 0
    clock.set(at("10:45"))
    assert due_scheduled(session, clock, default_lead_min=60) == 1
    assert {m.payload["lead_minutes"] for m in rows(session, "appointment.reminder")} == {15}


def test_nothing_is_written_when_nobody_listens(session, clock, bookable):
    book(session, clock, "A", at("11:00"), name="张三", phone="13812345678")
    session.commit()
    clock.set(at("10:30"))
    assert due_scheduled(session, clock) == 0
    assert session.scalars(select(OutboxMessage)).all() == []


def test_an_overdue_case_is_told_once(session, session_factory, clock, make_service, make_counter, listening):
    service = make_service("B")
    counter = make_counter("1", [service])
    ticket = issue_ticket(session, clock, "B")
    session.commit()
    call_next(session, clock, counter.id)
    finish_visit(session, clock, ticket.token, VisitRecord(outcome="resolved", customer_name="钱七"))
    rate_visit(session, clock, ticket.token, 1)
    session.commit()
    case = session.scalars(select(RectificationCase)).one()
    clock.set(datetime(case.due_date.year, case.due_date.month, case.due_date.day, 4, tzinfo=UTC))
    assert due_scheduled(session, clock) == 0  # due today: not overdue yet
    clock.advance(days=1)
    written: list[int] = []

    def scan(_i: int) -> None:
        with session_factory() as own:
            written.append(due_scheduled(own, clock))

    run_threads(2, scan)
    assert sorted(written) == [0, 1]
    clock.advance(days=3)
    assert due_scheduled(session, clock) == 0
    told = {m.subscription_id: m.payload for m in rows(session, "case.overdue")}
    untrusted, trusted = listening
    assert told[untrusted.id]["case_id"] == case.id
    assert told[untrusted.id]["ticket"]["number"] == ticket.number
    assert "personal" not in told[untrusted.id]
    assert told[trusted.id]["personal"]["customer_name"] == "钱七"
