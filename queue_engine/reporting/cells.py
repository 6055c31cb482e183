"""Report cells: one business day's figures for one (issued service, counter, clerk).

Every report figure is a sum over cells, or a percentile over the durations the cells hold,
so that a year (500,000 tickets) is answered from a few tens of thousands of rows instead of
every ticket:

* a **closed** day (no ticket of it open any more) has its cells stored in ``report_cells``
  and a ``report_days`` row; ``finalize_days`` stores them, run by ``close_business_day`` and
  by the history generator;
* while visitors may still rate that day's visits (``ratings.RATING_DAYS`` after its last
  visit) the day is *provisional*: its stored counts and durations are used, its ratings are
  read live from the visits (one GROUP BY); once the window is over the day is stored again
  as *final*;
* a day not closed yet (today, or a day nobody closed) has its cells built from the tickets
  at request time, by the same function that stores them;
* a past month whose days are all final is also stored merged, one cell per (service,
  counter, clerk) for the whole month (``period = "month"``), so that a year reads about
  twenty times fewer rows; a report uses a month's cells when it covers the whole month.

So a report is exact whatever has been stored: the stored cells are a cache of facts that no
longer change.

The cells themselves, and how a day's tickets are counted into them: ``counting``.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, true
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.kinds import OPEN_STATUSES
from queue_engine.core.models import ReportCell, ReportDay, ReportMonth, Ticket
from queue_engine.quality.ratings import RATING_DAYS
from queue_engine.reporting.counting import (
    ARRAY_FIELDS,
    COUNT_FIELDS,
    KEY_FIELDS,
    NO_RATINGS,
    Cell,
    build_cells,
    by_position,
    live_ratings,
    pack,
)

CELL_VERSION = 3


def _stored_cells(
    session: Session, first: date, last: date, where: list[Any], *, period: str = "day"
) -> Iterator[tuple[bool, Cell]]:
    columns = [getattr(ReportCell, name) for name in KEY_FIELDS + COUNT_FIELDS + ARRAY_FIELDS]
    if period == "day":
        query = select(ReportDay.final, *columns).join(
            ReportDay, ReportDay.business_date == ReportCell.business_date
        )
        query = query.where(ReportDay.version == CELL_VERSION)
    else:
        query = select(true(), *columns).join(ReportMonth, ReportMonth.month == ReportCell.business_date)
        query = query.where(ReportMonth.version == CELL_VERSION)
    query = query.where(ReportCell.period == period, ReportCell.business_date.between(first, last), *where)
    for final, *values in session.execute(query):
        yield final, Cell(*values)


def month_bounds(day: date) -> tuple[date, date]:
    """The first and last day of the month of ``day``."""
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def _runs(days: Iterable[date], step: int | None = 1) -> Iterator[tuple[date, date]]:
    """Consecutive runs of sorted days (or, with ``step=None``, of consecutive months' 1sts)."""
    start: date | None = None
    end: date | None = None
    for day in sorted(days):
        if end is not None:
            following = end + timedelta(days=step) if step else month_bounds(end)[1] + timedelta(days=1)
            if day == following:
                end = day
                continue
        if start is not None and end is not None:
            yield start, end
        start = end = day
    if start is not None and end is not None:
        yield start, end


def _cell_filters(service_id: int | None, counter_id: int | None, staff_id: int | None) -> list[Any]:
    """The stored cells' conditions for a report's filters."""
    where: list[Any] = []
    if service_id is not None:
        where.append(ReportCell.service_id == service_id)
    if counter_id is not None:
        where.append(ReportCell.counter_id == counter_id)
    if staff_id is not None:
        where.append(ReportCell.staff_id == staff_id)
    return where


def _whole_month_cells(
    session: Session, first: date, last: date, where: list[Any]
) -> tuple[list[Cell], set[date]]:
    """The merged cells of the stored months wholly inside ``first``..``last``, and the days they cover."""
    whole = [
        m
        for m in session.scalars(
            select(ReportMonth.month).where(
                ReportMonth.month.between(first, last), ReportMonth.version == CELL_VERSION
            )
        )
        if month_bounds(m)[1] <= last
    ]
    cells: list[Cell] = []
    for run_first, run_last in _runs(whole, step=None):
        cells += [cell for _final, cell in _stored_cells(session, run_first, run_last, where, period="month")]
    covered: set[date] = set()
    for month in whole:
        start, end = month_bounds(month)
        covered |= {start + timedelta(days=n) for n in range((end - start).days + 1)}
    return cells, covered


def _stored_days(session: Session, days: list[date]) -> dict[date, bool]:
    """Which of these days have their cells stored, and whether finally."""
    stored: dict[date, bool] = {}
    for run_first, run_last in _runs(days):
        stored.update(
            session.execute(
                select(ReportDay.business_date, ReportDay.final).where(
                    ReportDay.business_date.between(run_first, run_last), ReportDay.version == CELL_VERSION
                )
            ).all()
        )
    return stored


def _stored_day_cells(session: Session, stored: dict[date, bool], where: list[Any]) -> list[Cell]:
    """The stored days' cells; a provisional day's ratings read live (more may have come)."""
    ratings = live_ratings(session, [day for day, final in stored.items() if not final])
    cells: list[Cell] = []
    for run_first, run_last in _runs(stored):
        for final, cell in _stored_cells(session, run_first, run_last, where):
            if not final:
                cell.ratings = ratings.get(cell.key, NO_RATINGS)
            cells.append(cell)
    return cells


def _built_cells(
    session: Session,
    clock: Clock,
    days: Iterable[date],
    service_id: int | None,
    counter_id: int | None,
    staff_id: int | None,
) -> list[Cell]:
    """The cells of days not stored, built from the tickets now, that match the filters."""
    cells: list[Cell] = []
    for run_first, run_last in _runs(days):
        for c in build_cells(session, clock, run_first, run_last):
            if (
                (service_id is None or c.service_id == service_id)
                and (counter_id is None or c.counter_id == counter_id)
                and (staff_id is None or c.staff_id == staff_id)
            ):
                cells.append(c)
    return cells


def load_cells(
    session: Session,
    clock: Clock,
    first: date,
    last: date,
    *,
    service_id: int | None = None,
    counter_id: int | None = None,
    staff_id: int | None = None,
    months: bool = True,
) -> list[Cell]:
    """The cells of ``first``..``last`` matching the filters: stored where closed, else built now.

    With ``months``, whole months inside the period come as one cell per key and month (its
    ``business_date`` the 1st); without, every cell is one day's.
    """
    where = _cell_filters(service_id, counter_id, staff_id)
    cells, covered = _whole_month_cells(session, first, last, where) if months else ([], set())
    span = (last - first).days + 1
    wanted = [day for day in (first + timedelta(days=n) for n in range(span)) if day not in covered]
    stored = _stored_days(session, wanted)
    cells += _stored_day_cells(session, stored, where)
    cells += _built_cells(
        session, clock, (day for day in wanted if day not in stored), service_id, counter_id, staff_id
    )
    return cells


def day_state(session: Session, clock: Clock, day: date) -> str:
    """'open' (tickets still open, or today), 'provisional' (ratings may come) or 'final'."""
    if day >= clock.today():
        return "open"
    open_count, last_finish = session.execute(
        select(
            func.count(Ticket.id).filter(Ticket.status.in_(OPEN_STATUSES)),
            func.max(Ticket.finished_at),
        ).where(Ticket.business_date == day)
    ).one()
    if open_count:
        return "open"
    if last_finish is None or clock.now() - last_finish > timedelta(days=RATING_DAYS):
        return "final"
    return "provisional"


def store_day(session: Session, clock: Clock, day: date, *, final: bool) -> int:
    """Build and store one day's cells (replacing any older ones); returns how many."""
    cells = build_cells(session, clock, day, day)
    month = day.replace(day=1)
    session.execute(delete(ReportCell).where(ReportCell.period == "month", ReportCell.business_date == month))
    session.execute(delete(ReportMonth).where(ReportMonth.month == month))
    session.execute(delete(ReportCell).where(ReportCell.period == "day", ReportCell.business_date == day))
    session.execute(delete(ReportDay).where(ReportDay.business_date == day))
    if cells:
        session.execute(insert(ReportCell), [c.as_row() for c in cells])
    session.add(ReportDay(business_date=day, version=CELL_VERSION, final=final, built_at=clock.now()))
    session.flush()
    return len(cells)


def finalize_days(session: Session, clock: Clock) -> list[date]:
    """Store the cells of every closed day not stored yet, and again once its ratings are final."""
    stored = dict(
        session.execute(
            select(ReportDay.business_date, ReportDay.final).where(ReportDay.version == CELL_VERSION)
        ).all()
    )
    days = session.scalars(
        select(Ticket.business_date)
        .where(Ticket.business_date < clock.today())
        .group_by(Ticket.business_date)
    ).all()
    done: list[date] = []
    for day in days:
        if stored.get(day):
            continue
        state = day_state(session, clock, day)
        if state == "open" or (day in stored and state == "provisional"):
            continue
        store_day(session, clock, day, final=state == "final")
        stored[day] = state == "final"
        done.append(day)
    _store_months(session, clock, days, stored)
    return done


def _store_months(session: Session, clock: Clock, days: Iterable[date], final: dict[date, bool]) -> None:
    """Merge every past month whose days (with tickets) are all final and that is not merged yet."""
    merged = set(session.scalars(select(ReportMonth.month).where(ReportMonth.version == CELL_VERSION)))
    by_month: dict[date, list[date]] = defaultdict(list)
    for day in days:
        by_month[day.replace(day=1)].append(day)
    for month, month_days in sorted(by_month.items()):
        if month in merged or month_bounds(month)[1] >= clock.today():
            continue
        if all(final.get(day) for day in month_days):
            store_month(session, clock, month)


def store_month(session: Session, clock: Clock, month: date) -> int:
    """Merge a month's (final) day cells into one cell per (service, counter, clerk)."""
    start, end = month_bounds(month)
    merged: dict[tuple[int, int | None, int | None], list[Cell]] = defaultdict(list)
    for _final, cell in _stored_cells(session, start, end, []):
        merged[(cell.service_id, cell.counter_id, cell.staff_id)].append(cell)
    session.execute(delete(ReportCell).where(ReportCell.period == "month", ReportCell.business_date == start))
    session.execute(delete(ReportMonth).where(ReportMonth.month == start))
    rows = []
    for (service_id, counter_id, staff_id), parts in merged.items():
        cell = Cell(start, service_id, counter_id, staff_id)
        for name in COUNT_FIELDS:
            setattr(cell, name, sum(getattr(part, name) for part in parts))
        for name in ("waits", "walks", "service_times"):
            setattr(cell, name, b"".join(getattr(part, name) for part in parts))
        for name, width in (("arrivals_by_hour", 24), ("served_by_hour", 24), ("ratings", 5)):
            setattr(cell, name, pack(array("i", by_position(parts, name, width))))
        rows.append({**cell.as_row(), "period": "month"})
    if rows:
        session.execute(insert(ReportCell), rows)
    session.add(ReportMonth(month=start, version=CELL_VERSION, built_at=clock.now()))
    session.flush()
    return len(rows)
