"""The hall's settings: opening hours, closed dates and the priority policy."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Hall


def hall_settings(session: Session) -> Hall:
    """The hall's one settings row, created with defaults when missing."""
    hall = session.scalars(select(Hall).order_by(Hall.id).limit(1)).first()
    if hall is None:
        hall = Hall(name={"zh": "政务服务大厅", "en": "Service Hall"}, opening_hours={})
        session.add(hall)
        session.flush()
    return hall


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def is_open(hall: Hall, local: datetime) -> bool:
    """Whether the hall takes tickets at a local (hall timezone) moment.

    No opening hours at all means always open (the embedded demo); a weekday that is missing
    from the table is a closed day; a closed date closes the whole day.
    """
    if local.date().isoformat() in (hall.closed_dates or []):
        return False
    if not hall.opening_hours:
        return True
    intervals = hall.opening_hours.get(str(local.weekday()), [])
    now = local.time()
    return any(_parse_hhmm(start) <= now < _parse_hhmm(end) for start, end in intervals)


def is_working_day(hall: Hall, day: date) -> bool:
    """Whether a date is a day the hall opens at all."""
    if day.isoformat() in (hall.closed_dates or []):
        return False
    if not hall.opening_hours:
        return day.weekday() < 5
    return bool(hall.opening_hours.get(str(day.weekday())))
