"""Opening hours: tickets are issued only while the hall is open, by the clock on the hall's wall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_engine import issue_ticket
from queue_engine.core.errors import HallClosed
from queue_engine.core.models import Hall
from queue_engine.hall.calendar import is_open, is_working_day
from queue_engine.queue.day import last_closable_day

from .helpers import event_count

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = [["08:30", "12:00"], ["13:30", "17:30"]]
# Monday to Friday, two sittings; Saturday mornings; Sunday missing (closed).
HOURS = {str(d): WEEKDAYS for d in range(5)} | {"5": [["09:00", "12:00"]]}


def local(day: int, hhmm: str) -> datetime:
    """A moment of January 2026 on the hall's wall clock (5 January is a Monday)."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 1, day, hours, minutes, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (local(5, "08:29"), False),
        (local(5, "08:30"), True),
        (local(5, "11:59"), True),
        (local(5, "12:00"), False),  # an interval's end is closed
        (local(5, "13:00"), False),  # lunch
        (local(5, "13:30"), True),
        (local(5, "17:29"), True),
        (local(5, "17:30"), False),
        (local(5, "22:00"), False),
        (local(9, "16:00"), True),  # Friday
        (local(10, "10:00"), True),  # Saturday morning
        (local(10, "14:00"), False),  # Saturday afternoon
        (local(11, "10:00"), False),  # Sunday: not in the table at all
    ],
    ids=lambda v: v.strftime("%a-%H%M") if isinstance(v, datetime) else str(v),
)
def test_issuing_follows_the_opening_hours(session, clock, make_service, configure_hall, moment, is_open):
    configure_hall(opening_hours=HOURS)
    make_service("A")
    clock.set(moment)
    if is_open:
        assert issue_ticket(session, clock, "A").number == "A001"
        session.commit()
        return
    with pytest.raises(HallClosed):
        issue_ticket(session, clock, "A")
    session.rollback()
    assert event_count(session) == 0


def test_hours_are_read_in_the_halls_timezone(session, clock, make_service, configure_hall):
    """09:00 in Shanghai is 01:00 UTC: open, although 01:00 is outside the hours."""
    configure_hall(opening_hours=HOURS)
    make_service("A")
    clock.set(datetime(2026, 1, 5, 1, 0, tzinfo=UTC))
    issue_ticket(session, clock, "A")
    session.commit()
    clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))  # 18:00 in Shanghai
    with pytest.raises(HallClosed):
        issue_ticket(session, clock, "A")
    session.rollback()


def test_a_closed_date_closes_the_whole_day(session, clock, make_service, configure_hall):
    configure_hall(opening_hours=HOURS, closed_dates=["2026-01-01", "2026-01-06"])
    make_service("A")
    clock.set(local(6, "10:00"))  # a Tuesday, within the hours
    with pytest.raises(HallClosed):
        issue_ticket(session, clock, "A")
    session.rollback()
    clock.set(local(7, "10:00"))
    assert issue_ticket(session, clock, "A").number == "A001"
    session.commit()


def test_a_closed_date_applies_without_opening_hours(session, clock, make_service, configure_hall):
    configure_hall(opening_hours={}, closed_dates=["2026-01-05"])
    make_service("A")
    with pytest.raises(HallClosed):
        issue_ticket(session, clock, "A")
    session.rollback()


def test_no_opening_hours_means_always_open(session, clock, make_service, configure_hall):
    configure_hall(opening_hours={})
    make_service("A")
    numbers = []
    for hours in (0, 15, 20):  # 09:00 Monday, 00:00 Tuesday, 05:00 Tuesday
        clock.set(local(5, "09:00") + timedelta(hours=hours))
        numbers.append(issue_ticket(session, clock, "A").number)
        session.commit()
    assert numbers == ["A001", "A001", "A002"]


def test_a_refused_ticket_takes_no_number(session, clock, make_service, configure_hall):
    configure_hall(opening_hours=HOURS)
    make_service("A")
    clock.set(local(5, "08:00"))
    with pytest.raises(HallClosed):
        issue_ticket(session, clock, "A")
    session.rollback()
    clock.set(local(5, "08:30"))
    assert issue_ticket(session, clock, "A").number == "A001"
    session.commit()


@pytest.mark.parametrize(
    ("hours", "closed", "day", "working"),
    [
        (HOURS, [], 5, True),
        (HOURS, [], 10, True),
        (HOURS, [], 11, False),
        (HOURS, ["2026-01-06"], 6, False),
        ({}, [], 9, True),
        ({}, [], 10, False),
    ],
)
def test_working_days(hours, closed, day, working):
    hall = Hall(opening_hours=hours, closed_dates=closed)
    assert is_working_day(hall, local(day, "12:00").date()) is working


@pytest.mark.parametrize(
    ("moment", "working", "open_then"),
    [
        # Sunday 11 January worked (调休上班): open with Monday's hours.
        (local(11, "09:00"), True, True),
        (local(11, "12:30"), True, False),
        # A Sunday not listed stays closed.
        (local(18, "09:00"), False, False),
        # A holiday on a Monday.
        (local(12, "09:00"), False, False),
    ],
)
def test_an_extra_working_date_opens_with_the_weekday_hours(moment, working, open_then):
    hall = Hall(opening_hours=HOURS, closed_dates=["2026-01-12"], extra_working_dates=["2026-01-11"])
    assert is_working_day(hall, moment.date()) is working
    assert is_open(hall, moment) is open_then


def test_the_day_of_an_extra_working_date_closes_after_its_hours(clock):
    """The day's close follows the same calendar: a 调休 Sunday is not closed at once."""
    hall = Hall(
        opening_hours=HOURS, closed_dates=[], extra_working_dates=["2026-01-11"], day_close_delay_min=60
    )
    clock.set(local(11, "10:00"))
    assert last_closable_day(hall, clock) == local(10, "00:00").date()
    clock.set(local(11, "18:31"))
    assert last_closable_day(hall, clock) == local(11, "00:00").date()


def test_a_hall_row_older_than_extra_working_dates_reads_as_none():
    hall = Hall(opening_hours=HOURS, closed_dates=[], extra_working_dates=None)
    assert not is_working_day(hall, local(11, "09:00").date())
