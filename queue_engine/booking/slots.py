"""A service's bookable slots on a day: from the hall's opening hours and closed dates.

A slot is ``slot_minutes`` long; a day's slots cut each opening interval from its start, and
a last piece shorter than a slot is not offered.  A hall without opening hours (open around
the clock) has slots from 00:00 to 24:00, except on its closed dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.booking.capacity import capacity_for, default_capacity
from queue_engine.booking.models import BookingSettings, BookingSlot
from queue_engine.core.clock import Clock, parse_hhmm
from queue_engine.core.errors import BookingClosed
from queue_engine.core.models import Hall, Service
from queue_engine.hall.calendar import closed_dates, hall_settings, hours_on


@dataclass(frozen=True)
class Slot:
    """One slot of a service's day, with its places."""

    starts_at: datetime  # UTC
    ends_at: datetime
    capacity: int
    booked: int
    # Whether it can still be booked now (inside the days ahead, before its cut-off).
    open: bool

    @property
    def left(self) -> int:
        """Places still free (never below nought, even after the capacity was lowered)."""
        return max(0, self.capacity - self.booked)


def _intervals(hall: Hall, day: date) -> list[tuple[time, time | None]]:
    """The day's opening intervals as local times (None = midnight at the end of the day)."""
    if day.isoformat() in closed_dates(hall):
        return []
    if not hall.opening_hours:
        return [(time(0, 0), None)]
    spans = []
    for start, end in hours_on(hall, day):
        closing = parse_hhmm(end)
        spans.append((parse_hhmm(start), None if closing == time(0, 0) else closing))
    return spans


def slot_starts(
    hall: Hall, settings: BookingSettings, clock: Clock, day: date
) -> list[tuple[datetime, datetime]]:
    """The (start, end) instants, UTC, of every slot of a day, in order."""
    length = timedelta(minutes=max(settings.slot_minutes, 5))
    slots: list[tuple[datetime, datetime]] = []
    for opening, closing in _intervals(hall, day):
        start = datetime.combine(day, opening, clock.tz)
        end = (
            datetime.combine(day + timedelta(days=1), time(0, 0), clock.tz)
            if closing is None
            else datetime.combine(day, closing, clock.tz)
        )
        while start + length <= end:
            slots.append((start.astimezone(UTC), (start + length).astimezone(UTC)))
            start += length
    return slots


def booking_settings(session: Session, service: Service) -> BookingSettings:
    """A service's booking settings; refuses (BookingClosed) a service that takes no bookings."""
    settings = session.get(BookingSettings, service.id)
    if settings is None or not settings.bookable or not service.active:
        raise BookingClosed(f"Service {service.code} takes no bookings.")
    return settings


def bookable_days(settings: BookingSettings, clock: Clock) -> list[date]:
    """Today and the days ahead that may be booked."""
    today = clock.today()
    return [today + timedelta(days=n) for n in range(max(settings.days_ahead, 0) + 1)]


def is_open_for_booking(settings: BookingSettings, clock: Clock, starts_at: datetime) -> bool:
    """Whether a slot starting then may be booked now: within the days ahead, before its cut-off."""
    if clock.business_date(starts_at) not in bookable_days(settings, clock):
        return False
    return clock.now() <= starts_at - timedelta(minutes=max(settings.cutoff_minutes, 0))


def day_slots(session: Session, clock: Clock, service: Service, day: date) -> list[Slot]:
    """A service's slots of a day with their capacity, places taken and whether they are open."""
    settings = booking_settings(session, service)
    hall = hall_settings(session)
    rows = {
        row.starts_at: row
        for row in session.scalars(
            select(BookingSlot).where(BookingSlot.service_id == service.id, BookingSlot.business_date == day)
        )
    }
    starts = slot_starts(hall, settings, clock, day)
    defaults = None
    if settings.capacity is None and len(rows) < len(starts):
        defaults = default_capacity(session, clock, settings, day.weekday())
    slots = []
    for start, end in starts:
        row = rows.get(start)
        slots.append(
            Slot(
                starts_at=start,
                ends_at=end,
                capacity=row.capacity if row else capacity_for(settings, defaults, clock.local(start)),
                booked=row.booked if row else 0,
                open=is_open_for_booking(settings, clock, start),
            )
        )
    return slots
