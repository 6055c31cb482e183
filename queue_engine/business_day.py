"""The business day closes by itself: after the day's closing time, what is still open expires.

``close_day_if_due`` is what a server's background task runs every minute; it is idempotent
(closing a closed day finds nothing) and safe when several processes run it at once, since
``close_business_day`` locks and re-checks the rows it changes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from .clock import Clock
from .hall import hall_settings, is_working_day
from .models import Hall
from .tickets import close_business_day


def closing_time(hall: Hall, day: date) -> str | None:
    """When the hall's last opening interval of a day ends ('HH:MM'); None if it has no hours."""
    intervals = (hall.opening_hours or {}).get(str(day.weekday()), [])
    return max((end for _start, end in intervals), default=None)


def last_closable_day(hall: Hall, clock: Clock) -> date:
    """The latest business day whose queue should be closed by now.

    Yesterday at the latest.  Today too once its closing time plus the hall's delay has passed
    (the delay lets clerks finish with the visitors still in the hall), or all day when the
    hall does not open today.  A hall without opening hours (always open) closes at midnight.
    """
    local = clock.local()
    today = local.date()
    yesterday = today - timedelta(days=1)
    if not hall.opening_hours:
        return yesterday
    if not is_working_day(hall, today):
        return today
    end = closing_time(hall, today)
    if end is None:
        return today
    hours, minutes = (int(part) for part in end.split(":"))
    closes_at = datetime.combine(today, datetime.min.time(), local.tzinfo) + timedelta(
        hours=hours, minutes=minutes + hall.day_close_delay_min
    )
    return today if local >= closes_at else yesterday


def close_day_if_due(session: Session, clock: Clock) -> tuple[date, int]:
    """Close every business day up to the last closable one; returns it and the tickets expired."""
    day = last_closable_day(hall_settings(session), clock)
    return day, close_business_day(session, clock, day)
