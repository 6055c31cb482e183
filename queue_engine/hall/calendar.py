"""The hall's settings: opening hours, closed dates and the priority policy."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from queue_engine.core.clock import parse_hhmm
from queue_engine.core.models import Hall


def hall_settings(session: Session) -> Hall:
    """The hall's one settings row, created with defaults when missing."""
    query = select(Hall).order_by(Hall.id).limit(1)
    hall = session.scalars(query).first()
    if hall is None:
        # The first requests of a new hall race to create the row: a fixed id and ON CONFLICT
        # DO NOTHING leave exactly one, whoever wins (a plain INSERT gave one row per racer).
        insert_fn = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert_fn(Hall)
            .values(id=1, name={"zh": "政务服务大厅", "en": "Service Hall"}, opening_hours={})
            .on_conflict_do_nothing(index_elements=[Hall.id])
        )
        hall = session.scalars(query).one()
    return hall


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
    return any(parse_hhmm(start) <= now < parse_hhmm(end) for start, end in intervals)


def is_working_day(hall: Hall, day: date) -> bool:
    """Whether a date is a day the hall opens at all."""
    if day.isoformat() in (hall.closed_dates or []):
        return False
    if not hall.opening_hours:
        return day.weekday() < 5
    return bool(hall.opening_hours.get(str(day.weekday())))
