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

Which cell a ticket lands in: the service it was **issued** for, and the counter and clerk
that **last** held it (none for a ticket never called, or cancelled or expired in the queue).
A transfer is counted in the cell of (the service it left, the counter and clerk that
transferred it).  Durations are whole seconds (truncated):

* wait = issue -> first call (for a transferred ticket, the call before its first transfer);
* walk = call -> start, only where the clerk pressed "start" (a visit finished straight from
  the call has no walk time); after a transfer, the call and start in the last service;
* service time = start -> finish of a finished (done) visit.

Local hours are taken in the clock's timezone when the cells are built; after changing the
hall's timezone, ``flask reports-rebuild`` stores them again.
"""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import delete, func, insert, select, true
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.kinds import OPEN_STATUSES, TicketStatus
from queue_engine.core.models import ReportCell, ReportDay, ReportMonth, Ticket, TicketEvent, Visit
from queue_engine.quality.ratings import RATING_DAYS

CELL_VERSION = 3
SECOND = timedelta(seconds=1)
_LITTLE = sys.byteorder == "little"

CellKey = tuple[date, int, int | None, int | None]


def _ints(size: int = 0) -> array[int]:
    return array("i", bytes(4 * size))


def pack(values: array[int]) -> bytes:
    """int32 little-endian bytes of an array."""
    if _LITTLE:
        return values.tobytes()
    copy = array("i", values)
    copy.byteswap()
    return copy.tobytes()


def unpack(data: bytes) -> array[int]:
    """The array that ``pack`` stored."""
    values = array("i")
    values.frombytes(data)
    if not _LITTLE:
        values.byteswap()
    return values


NO_HOURS = pack(_ints(24))
NO_RATINGS = pack(_ints(5))


@dataclass
class Cell:
    """Counts and durations of one day's tickets for one (issued service, counter, clerk).

    The durations, the hour counts and the rating counts are kept packed (see ``pack``), as
    stored: a report joins the bytes of many cells and unpacks them once.
    """

    business_date: date
    service_id: int
    counter_id: int | None
    staff_id: int | None
    issued: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    expired: int = 0
    open: int = 0
    transferred_out: int = 0
    waits: bytes = b""
    walks: bytes = b""
    service_times: bytes = b""
    arrivals_by_hour: bytes = NO_HOURS
    served_by_hour: bytes = NO_HOURS
    ratings: bytes = NO_RATINGS

    @property
    def key(self) -> CellKey:
        """(day, service, counter, clerk)."""
        return (self.business_date, self.service_id, self.counter_id, self.staff_id)

    def as_row(self) -> dict[str, Any]:
        """The cell as a ``report_cells`` row."""
        return {name: getattr(self, name) for name in KEY_FIELDS + COUNT_FIELDS + ARRAY_FIELDS}


KEY_FIELDS = ("business_date", "service_id", "counter_id", "staff_id")
COUNT_FIELDS = ("issued", "served", "no_show", "cancelled", "expired", "open", "transferred_out")
ARRAY_FIELDS = ("waits", "walks", "service_times", "arrivals_by_hour", "served_by_hour", "ratings")
_STATUS_FIELD: dict[str, str] = {
    TicketStatus.DONE: "served",
    TicketStatus.NO_SHOW: "no_show",
    TicketStatus.CANCELLED: "cancelled",
    TicketStatus.EXPIRED: "expired",
}


@dataclass
class _Builder:
    """A cell while it is being counted, with its arrays unpacked."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_FIELDS, 0))
    arrays: dict[str, array[int]] = field(
        default_factory=lambda: {
            "waits": _ints(),
            "walks": _ints(),
            "service_times": _ints(),
            "arrivals_by_hour": _ints(24),
            "served_by_hour": _ints(24),
            "ratings": _ints(5),
        }
    )

    def cell(self, key: CellKey) -> Cell:
        """The finished cell, its arrays packed."""
        built = Cell(*key)
        for name, n in self.counts.items():
            setattr(built, name, n)
        for name, values in self.arrays.items():
            setattr(built, name, pack(values))
        return built


def build_cells(session: Session, clock: Clock, first: date, last: date) -> list[Cell]:
    """The cells of business days ``first``..``last``, computed from the tickets themselves."""
    builders: dict[CellKey, _Builder] = defaultdict(_Builder)
    first_calls: dict[int, datetime] = {}
    transfers = session.execute(
        select(
            TicketEvent.ticket_id,
            TicketEvent.type,
            TicketEvent.at,
            TicketEvent.counter_id,
            TicketEvent.staff_id,
            TicketEvent.data,
            Ticket.business_date,
        )
        .join(Ticket, TicketEvent.ticket_id == Ticket.id)
        .where(
            Ticket.business_date.between(first, last),
            Ticket.transfer_count > 0,
            TicketEvent.type.in_(("called", "transferred")),
        )
        .order_by(TicketEvent.id)
    )
    for ticket_id, type_, at, counter_id, staff_id, data, day in transfers:
        if type_ == "called":
            first_calls.setdefault(ticket_id, at)
        else:
            from_service = int((data or {}).get("from_service_id") or 0)
            builders[(day, from_service, counter_id, staff_id)].counts["transferred_out"] += 1

    rows = session.execute(
        select(
            Ticket.id,
            Ticket.business_date,
            Ticket.issued_service_id,
            Ticket.counter_id,
            Ticket.staff_id,
            Ticket.status,
            Ticket.issued_at,
            Ticket.called_at,
            Ticket.started_at,
            Ticket.finished_at,
            Visit.rating,
        )
        .outerjoin(Visit, Visit.ticket_id == Ticket.id)
        .where(Ticket.business_date.between(first, last))
    )
    local = clock.local
    for row in rows:
        (
            ticket_id,
            day,
            service_id,
            counter_id,
            staff_id,
            status,
            issued,
            called,
            started,
            finished,
            rating,
        ) = row
        b = builders[(day, service_id, counter_id, staff_id)]
        counts, arrays = b.counts, b.arrays
        counts["issued"] += 1
        counts["open" if status in OPEN_STATUSES else _STATUS_FIELD[status]] += 1
        arrays["arrivals_by_hour"][local(issued).hour] += 1
        first_call = first_calls.get(ticket_id, called)
        if first_call is not None:
            arrays["waits"].append((first_call - issued) // SECOND)
        if called is not None and started is not None and started > called:
            arrays["walks"].append((started - called) // SECOND)
        if status == TicketStatus.DONE and started is not None and finished is not None:
            arrays["service_times"].append((finished - started) // SECOND)
            arrays["served_by_hour"][local(finished).hour] += 1
            if rating is not None and 1 <= rating <= 5:
                arrays["ratings"][rating - 1] += 1
    return [b.cell(key) for key, b in builders.items()]


def live_ratings(session: Session, days: Iterable[date]) -> dict[CellKey, bytes]:
    """The rating counts (1-5) of some days' finished visits, per cell key, read now."""
    counts: dict[CellKey, array[int]] = defaultdict(lambda: _ints(5))
    days = list(days)
    if not days:
        return {}
    rows = session.execute(
        select(
            Ticket.business_date,
            Ticket.issued_service_id,
            Ticket.counter_id,
            Ticket.staff_id,
            Visit.rating,
            func.count(),
        )
        .join(Visit, Visit.ticket_id == Ticket.id)
        .where(
            Ticket.business_date.in_(days),
            Ticket.status == TicketStatus.DONE,
            Visit.rating.between(1, 5),
        )
        .group_by(
            Ticket.business_date, Ticket.issued_service_id, Ticket.counter_id, Ticket.staff_id, Visit.rating
        )
    )
    for day, service_id, counter_id, staff_id, rating, n in rows:
        if rating is not None:
            counts[(day, service_id, counter_id, staff_id)][rating - 1] += n
    return {key: pack(values) for key, values in counts.items()}


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
    where: list[Any] = []
    if service_id is not None:
        where.append(ReportCell.service_id == service_id)
    if counter_id is not None:
        where.append(ReportCell.counter_id == counter_id)
    if staff_id is not None:
        where.append(ReportCell.staff_id == staff_id)
    cells: list[Cell] = []
    covered: set[date] = set()
    if months:
        whole = [
            m
            for m in session.scalars(
                select(ReportMonth.month).where(
                    ReportMonth.month.between(first, last), ReportMonth.version == CELL_VERSION
                )
            )
            if month_bounds(m)[1] <= last
        ]
        for run_first, run_last in _runs(whole, step=None):
            cells += [
                cell for _final, cell in _stored_cells(session, run_first, run_last, where, period="month")
            ]
        for month in whole:
            start, end = month_bounds(month)
            covered |= {start + timedelta(days=n) for n in range((end - start).days + 1)}
    span = (last - first).days + 1
    wanted = [day for day in (first + timedelta(days=n) for n in range(span)) if day not in covered]
    stored_days: dict[date, bool] = {}
    for run_first, run_last in _runs(wanted):
        stored_days.update(
            session.execute(
                select(ReportDay.business_date, ReportDay.final).where(
                    ReportDay.business_date.between(run_first, run_last), ReportDay.version == CELL_VERSION
                )
            ).all()
        )
    ratings = live_ratings(session, [day for day, final in stored_days.items() if not final])
    for run_first, run_last in _runs(stored_days):
        for final, cell in _stored_cells(session, run_first, run_last, where):
            if not final:
                cell.ratings = ratings.get(cell.key, NO_RATINGS)
            cells.append(cell)
    for run_first, run_last in _runs(day for day in wanted if day not in stored_days):
        for c in build_cells(session, clock, run_first, run_last):
            if (
                (service_id is None or c.service_id == service_id)
                and (counter_id is None or c.counter_id == counter_id)
                and (staff_id is None or c.staff_id == staff_id)
            ):
                cells.append(c)
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


def group(cells: Iterable[Cell], attribute: str) -> dict[Any, list[Cell]]:
    """Cells grouped by one of their key attributes."""
    groups: dict[Any, list[Cell]] = defaultdict(list)
    for c in cells:
        groups[getattr(c, attribute)].append(c)
    return groups


def joined(cells: Iterable[Cell], name: str) -> array[int]:
    """One packed field of many cells, joined and unpacked at once (C speed, not per cell)."""
    return unpack(b"".join(map(attrgetter(name), cells)))


def by_position(cells: Iterable[Cell], name: str, width: int) -> list[int]:
    """Sums, position by position, of a fixed-width packed field (hours: 24, ratings: 5)."""
    values = joined(cells, name)
    return [sum(values[i::width]) for i in range(width)]
