"""The hall's clock: UTC instants, business days in the hall's timezone, injectable for tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass
class Clock:
    """Tells the time in UTC and the business day in the hall's timezone."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        return datetime.now(UTC)

    def local(self, instant: datetime | None = None) -> datetime:
        """An instant (default: now) in the hall's timezone."""
        return (instant or self.now()).astimezone(self.tz)

    def today(self) -> date:
        """The current business day in the hall's timezone."""
        return self.local().date()

    def business_date(self, instant: datetime) -> date:
        """The business day an instant belongs to."""
        return self.local(instant).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants where a business day starts and ends."""
        start = datetime.combine(day, datetime.min.time(), self.tz)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), self.tz)
        return start.astimezone(UTC), end.astimezone(UTC)


@dataclass
class FakeClock(Clock):
    """A clock that stands still until told to move (tests, simulations)."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 1, 0, tzinfo=UTC))

    def now(self) -> datetime:
        """The instant the clock is set to."""
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by a timedelta's keyword arguments."""
        self.current = self.current + timedelta(**delta)
        return self.current

    def set(self, instant: datetime) -> None:
        """Put the clock at an instant (must be timezone-aware)."""
        if instant.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware instant")
        self.current = instant.astimezone(UTC)


def iso(instant: datetime | None) -> str | None:
    """An instant as ISO 8601 UTC text."""
    return instant.isoformat().replace("+00:00", "Z") if instant else None


def parse_hhmm(value: str) -> time:
    """A time of day written ``HH:MM`` (opening hours; already checked by hall.rules)."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
