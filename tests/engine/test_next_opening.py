"""When a closed hall takes tickets again: the kiosk's "13:30 恢复取号" comes from the calendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from queue_engine.core.models import Hall
from queue_engine.hall.calendar import next_opening

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = {str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)}


def local(day: int, hhmm: str) -> datetime:
    """A moment of January 2026 (5 January is a Monday)."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 1, day, hours, minutes, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(5, "12:10"), local(5, "13:30")),  # lunch: this afternoon
        (local(5, "07:00"), local(5, "08:30")),  # before opening
        (local(5, "18:00"), local(6, "08:30")),  # evening: tomorrow morning
        (local(9, "18:00"), local(12, "08:30")),  # Friday evening: Monday (weekend closed)
        (local(10, "10:00"), local(12, "08:30")),
        (local(5, "10:00"), None),  # open now
    ],
)
def test_the_next_opening_follows_the_weekly_hours(moment, expected):
    assert next_opening(Hall(opening_hours=HOURS, closed_dates=[]), moment) == expected


def test_holidays_are_skipped_and_an_extra_working_date_opens():
    hall = Hall(opening_hours=HOURS, closed_dates=["2026-01-12"], extra_working_dates=["2026-01-10"])

    assert next_opening(hall, local(9, "18:00")) == local(10, "08:30")  # 调休上班 on Saturday
    assert next_opening(hall, local(10, "18:00")) == local(13, "08:30")  # Monday is a holiday


def test_a_hall_without_hours_reopens_after_its_closed_date():
    hall = Hall(opening_hours={}, closed_dates=["2026-01-05"])

    assert next_opening(hall, local(5, "10:00")) == local(6, "00:00")
