"""One range of dates for reports, statistics and exports: one limit (366 days), one message each."""

from __future__ import annotations

from datetime import date

import pytest

from queue_engine.core.dates import FROM_AFTER_TO, NOT_A_DATE, TOO_LONG, DateRange, InvalidDateRange

TODAY = date(2026, 1, 5)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (None, None, (TODAY, TODAY, 1)),
        ("2026-01-01", None, (date(2026, 1, 1), date(2026, 1, 1), 1)),
        ("2026-01-01", "2026-01-05", (date(2026, 1, 1), TODAY, 5)),
        ("2024-01-01", "2024-12-31", (date(2024, 1, 1), date(2024, 12, 31), 366)),  # a leap year
        ("2025-01-06", "2026-01-06", (date(2025, 1, 6), date(2026, 1, 6), 366)),
    ],
)
def test_a_range_of_up_to_366_days(first, last, expected):
    period = DateRange.parse(first, last, default=TODAY)
    assert (period.first, period.last, period.days) == expected
    assert len(list(period)) == period.days


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        ("2025-01-05", "2026-01-06", "to", TOO_LONG),  # 367 days: accepted by two of the old copies
        ("2026-01-05", "2026-01-01", "from", FROM_AFTER_TO),
        ("yesterday", None, "from", NOT_A_DATE),
        ("2026-01-05", "", "to", NOT_A_DATE),
        ("2026-01-05", "2026-02-30", "to", NOT_A_DATE),
    ],
)
def test_one_message_for_each_way_a_range_is_wrong(first, last, field, message):
    with pytest.raises(InvalidDateRange) as refused:
        DateRange.parse(first, last, default=TODAY)
    assert refused.value.errors == {field: message}
    assert " / " in message  # English / 中文


def test_a_single_day():
    assert DateRange.day(None, default=TODAY).days == 1
    with pytest.raises(InvalidDateRange) as refused:
        DateRange.day("5 Jan", default=TODAY)
    assert refused.value.errors == {"date": NOT_A_DATE}
