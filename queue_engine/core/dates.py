"""A range of business dates as the hall asks for one: reports, statistics, exports.

One limit and one message for each way a range can be wrong, wherever it is typed: the
report page, ``/api/v1/stats``, the ratings export and the visit records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from queue_engine.core.errors import InvalidFields

MAX_DAYS = 366  # a leap year, first and last day included

NOT_A_DATE = "Write dates as YYYY-MM-DD, e.g. 2026-01-05. / 日期请写成 YYYY-MM-DD，例如 2026-01-05。"
FROM_AFTER_TO = "'From' is after 'to': swap the two dates. / 开始日期晚于结束日期，请对调两个日期。"
TOO_LONG = f"A range covers at most {MAX_DAYS} days. / 日期范围最多 {MAX_DAYS} 天。"


class InvalidDateRange(InvalidFields, ValueError):
    """The dates asked for do not make a range the hall reports on."""


@dataclass(frozen=True)
class DateRange:
    """The business dates from ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidDateRange({"from": FROM_AFTER_TO})
        if self.days > MAX_DAYS:
            raise InvalidDateRange({"to": TOO_LONG})

    @classmethod
    def parse(cls, first: str | None, last: str | None, *, default: date) -> DateRange:
        """The range typed as two YYYY-MM-DD texts; no 'from': ``default``; no 'to': 'from'.

        Only None is "not given": an empty text is not a date (a form's empty field is the
        caller's to turn into None).
        """
        start = _parse_day("from", first, default)
        return cls(start, _parse_day("to", last, start))

    @classmethod
    def day(cls, value: str | None, *, default: date) -> DateRange:
        """One day typed as YYYY-MM-DD (``default`` when missing), as a range of one day."""
        start = _parse_day("date", value, default)
        return cls(start, start)

    @property
    def days(self) -> int:
        """How many dates the range holds."""
        return (self.last - self.first).days + 1

    def __iter__(self) -> Iterator[date]:
        return (self.first + timedelta(days=n) for n in range(self.days))


def _parse_day(field: str, value: str | None, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidDateRange({field: NOT_A_DATE}) from None
