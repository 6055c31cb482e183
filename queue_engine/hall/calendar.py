"""The hall's settings and its one working-day calendar: opening hours, closed dates, 调休."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from queue_engine.core.clock import parse_hhmm
from queue_engine.core.models import Hall

HALL_OF_TRANSACTION = "qms_hall_of_transaction"
_HALL_ROW = select(Hall).order_by(Hall.id).limit(1)


def hall_settings(session: Session) -> Hall:
    """The hall's one settings row, created with defaults when missing; read once per transaction."""
    cached = session.info.get(HALL_OF_TRANSACTION)
    if cached is not None and cached[0] is _transaction(session):
        return cached[1]  # type: ignore[no-any-return]
    hall = session.scalars(_HALL_ROW).first()
    if hall is None:
        # The first requests of a new hall race to create the row: a fixed id and ON CONFLICT
        # DO NOTHING leave exactly one, whoever wins (a plain INSERT gave one row per racer).
        insert_fn = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert_fn(Hall)
            .values(id=1, name={"zh": "政务服务大厅", "en": "Service Hall"}, opening_hours={})
            .on_conflict_do_nothing(index_elements=[Hall.id])
        )
        hall = session.scalars(_HALL_ROW).one()
    session.info[HALL_OF_TRANSACTION] = (_transaction(session), hall)
    return hall


def _transaction(session: Session) -> object:
    # Some callers hand in Flask-SQLAlchemy's scoped proxy, which does not forward this method.
    real = session if isinstance(session, Session) else session()
    return real.get_transaction()


def _dates(values: object) -> set[str]:
    """A JSON list of YYYY-MM-DD texts as a set (NULL, from a row older than the column: empty)."""
    return {str(v) for v in values} if isinstance(values, list) else set()


def closed_dates(hall: Hall) -> set[str]:
    """Dates the hall stays closed whatever the weekday (holidays)."""
    return _dates(hall.closed_dates)


def extra_working_dates(hall: Hall) -> set[str]:
    """Weekend (or other closed-weekday) dates the hall works all the same (调休上班)."""
    return _dates(hall.extra_working_dates)


def _weekday_hours(hall: Hall) -> list[list[str]]:
    """The hours an extra working date opens with: those of the first weekday with hours."""
    hours = hall.opening_hours or {}
    for weekday in ("0", "1", "2", "3", "4", "5", "6"):
        if hours.get(weekday):
            return [list(span) for span in hours[weekday]]
    return []


def hours_on(hall: Hall, day: date) -> list[list[str]]:
    """The opening intervals ('HH:MM', 'HH:MM') of a date, after holidays and 调休.

    A closed date has none; an extra working date opens as the hall's first weekday with
    hours does (Monday, usually); otherwise the weekday's own hours.  Meaningless for a hall
    without opening hours, which is always open (see ``is_open``).
    """
    key = day.isoformat()
    if key in closed_dates(hall):
        return []
    if key in extra_working_dates(hall):
        return _weekday_hours(hall)
    return [list(span) for span in (hall.opening_hours or {}).get(str(day.weekday()), [])]


def is_open(hall: Hall, local: datetime) -> bool:
    """Whether the hall takes tickets at a local (hall timezone) moment.

    No opening hours at all means always open (the embedded demo), except on a closed date; a
    weekday that is missing from the table is a closed day, unless the date is an extra
    working date (调休上班).
    """
    if local.date().isoformat() in closed_dates(hall):
        return False
    if not hall.opening_hours:
        return True
    now = local.time()
    return any(parse_hhmm(start) <= now < parse_hhmm(end) for start, end in hours_on(hall, local.date()))


def next_opening(hall: Hall, local: datetime, *, horizon_days: int = 62) -> datetime | None:
    """When the hall next takes tickets after a local moment it is closed at (None: not within
    ``horizon_days``, or it is open now).

    Follows ``is_open``: the rest of today's intervals, then each later date's hours after
    holidays and 调休; a hall without opening hours reopens at midnight after its closed dates.
    """
    if is_open(hall, local):
        return None
    for offset in range(horizon_days + 1):
        day = local.date() + timedelta(days=offset)
        if not hall.opening_hours:
            if offset and day.isoformat() not in closed_dates(hall):
                return datetime.combine(day, time(0), local.tzinfo)
            continue
        for start, _end in sorted(hours_on(hall, day)):
            opens = datetime.combine(day, parse_hhmm(start), local.tzinfo)
            if opens > local:
                return opens
    return None


def is_working_day(hall: Hall, day: date) -> bool:
    """Whether the hall works on a date: the one working-day calendar (due dates, the day's close).

    The hall's weekdays with opening hours, less its closed dates, plus its extra working
    dates (调休上班).  A hall without opening hours (open around the clock) counts Monday to
    Friday as working days, so that due dates such as 15 working days keep their usual meaning.
    """
    key = day.isoformat()
    if key in closed_dates(hall):
        return False
    if key in extra_working_dates(hall):
        return True
    if not hall.opening_hours:
        return day.weekday() < 5
    return bool(hall.opening_hours.get(str(day.weekday())))


def add_working_days(hall: Hall, start: date, days: int) -> date:
    """The date ``days`` working days (``is_working_day``) after ``start``."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(hall, current):
            left -= 1
    return current
