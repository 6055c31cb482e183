"""Report cells: one business day's figures for one (issued service, counter, clerk).

Every report figure is a sum over cells, or a percentile over the durations the cells hold,
so that a year (500,000 tickets) is answered from a few tens of thousands of rows instead of
every ticket:

* a **final** day (no ticket open any more, and its last visit's rating window of
  ``tickets.RATING_DAYS`` over) has its cells stored in ``report_cells`` and a ``report_days`` row;
  ``finalize_days`` stores them, run by ``close_business_day`` and the history generator;
* any other day in a report (today, the last week while visitors may still rate, a day
  nobody closed) has its cells built from the tickets at request time, by the same function.

So a report is exact whatever has been stored: the stored cells are a cache of immutable
facts, which ``rebuild_days`` can throw away and build again.

Which cell a ticket lands in: the service it was **issued** for, and the counter and clerk
that **last** held it (none for a ticket never called, or cancelled or expired in the queue).
A transfer is counted in the cell of (the service it left, the counter and clerk that
transferred it).  Durations are whole seconds (truncated):

* wait = issue -> first call (for a transferred ticket, the call before its first transfer);
* walk = call -> start, only where the clerk pressed "start" (a visit finished straight from
  the call has no walk time); after a transfer, the call and start in the last service;
* service time = start -> finish of a finished (done) visit.
"""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from .clock import Clock
from .models import OPEN_STATUSES, ReportCell, ReportDay, Ticket, TicketEvent, TicketStatus, Visit

CELL_VERSION = 1
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


@dataclass
class Cell:
    """Counts and durations of one day's tickets for one (issued service, counter, clerk)."""

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
    waits: array[int] = field(default_factory=_ints)
    walks: array[int] = field(default_factory=_ints)
    service_times: array[int] = field(default_factory=_ints)
    arrivals_by_hour: array[int] = field(default_factory=lambda: _ints(24))
    served_by_hour: array[int] = field(default_factory=lambda: _ints(24))
    ratings: array[int] = field(default_factory=lambda: _ints(5))

    def as_row(self) -> dict[str, Any]:
        """The cell as a ``report_cells`` row."""
        return {
            "business_date": self.business_date,
            "service_id": self.service_id,
            "counter_id": self.counter_id,
            "staff_id": self.staff_id,
            **{name: getattr(self, name) for name in COUNT_FIELDS},
            **{name: pack(getattr(self, name)) for name in ARRAY_FIELDS},
        }


COUNT_FIELDS = ("issued", "served", "no_show", "cancelled", "expired", "open", "transferred_out")
ARRAY_FIELDS = ("waits", "walks", "service_times", "arrivals_by_hour", "served_by_hour", "ratings")
_STATUS_FIELD: dict[str, str] = {
    TicketStatus.DONE: "served",
    TicketStatus.NO_SHOW: "no_show",
    TicketStatus.CANCELLED: "cancelled",
    TicketStatus.EXPIRED: "expired",
}


def build_cells(session: Session, clock: Clock, first: date, last: date) -> list[Cell]:
    """The cells of business days ``first``..``last``, computed from the tickets themselves."""
    cells: dict[CellKey, Cell] = {}

    def cell(key: CellKey) -> Cell:
        found = cells.get(key)
        if found is None:
            found = cells[key] = Cell(*key)
        return found

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
            cell((day, from_service, counter_id, staff_id)).transferred_out += 1

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
        c = cell((day, service_id, counter_id, staff_id))
        c.issued += 1
        if status in OPEN_STATUSES:
            c.open += 1
        else:
            setattr(c, _STATUS_FIELD[status], getattr(c, _STATUS_FIELD[status]) + 1)
        c.arrivals_by_hour[local(issued).hour] += 1
        first_call = first_calls.get(ticket_id, called)
        if first_call is not None:
            c.waits.append((first_call - issued) // SECOND)
        if called is not None and started is not None and started > called:
            c.walks.append((started - called) // SECOND)
        if status == TicketStatus.DONE and started is not None and finished is not None:
            c.service_times.append((finished - started) // SECOND)
            c.served_by_hour[local(finished).hour] += 1
            if rating is not None and 1 <= rating <= 5:
                c.ratings[rating - 1] += 1
    return list(cells.values())


def _stored_cells(session: Session, days: list[date], where: list[Any]) -> Iterator[Cell]:
    if not days:
        return
    query = (
        select(ReportCell.__table__)
        .join(ReportDay, ReportDay.business_date == ReportCell.business_date)
        .where(
            ReportCell.business_date.between(min(days), max(days)),
            ReportDay.version == CELL_VERSION,
            *where,
        )
    )
    for row in session.execute(query).mappings():
        yield Cell(
            row["business_date"],
            row["service_id"],
            row["counter_id"],
            row["staff_id"],
            *(row[name] for name in COUNT_FIELDS),
            *(unpack(row[name]) for name in ARRAY_FIELDS),
        )


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive runs of sorted days, as (first, last)."""
    start = end = None
    for day in sorted(days):
        if end is not None and day == end + timedelta(days=1):
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
) -> list[Cell]:
    """The cells of ``first``..``last`` matching the filters: stored where final, else built now."""
    final = set(
        session.scalars(
            select(ReportDay.business_date).where(
                ReportDay.business_date.between(first, last), ReportDay.version == CELL_VERSION
            )
        )
    )
    where: list[Any] = []
    if service_id is not None:
        where.append(ReportCell.service_id == service_id)
    if counter_id is not None:
        where.append(ReportCell.counter_id == counter_id)
    if staff_id is not None:
        where.append(ReportCell.staff_id == staff_id)
    cells = list(_stored_cells(session, sorted(final), where))
    span = (last - first).days + 1
    pending = [first + timedelta(days=n) for n in range(span) if first + timedelta(days=n) not in final]
    for run_first, run_last in _runs(pending):
        for c in build_cells(session, clock, run_first, run_last):
            if (
                (service_id is None or c.service_id == service_id)
                and (counter_id is None or c.counter_id == counter_id)
                and (staff_id is None or c.staff_id == staff_id)
            ):
                cells.append(c)
    return cells


def is_final(session: Session, clock: Clock, day: date) -> bool:
    """Whether nothing about a day's tickets can change any more (no open ticket, no rating due)."""
    from .tickets import RATING_DAYS  # here: tickets imports this module

    if day >= clock.today():
        return False
    open_count, last_finish = session.execute(
        select(
            func.count(Ticket.id).filter(Ticket.status.in_(OPEN_STATUSES)),
            func.max(Ticket.finished_at),
        ).where(Ticket.business_date == day)
    ).one()
    if open_count:
        return False
    return last_finish is None or clock.now() - last_finish > timedelta(days=RATING_DAYS)


def store_day(session: Session, clock: Clock, day: date) -> int:
    """Build and store one day's cells (replacing any older ones); returns how many."""
    cells = build_cells(session, clock, day, day)
    session.execute(delete(ReportCell).where(ReportCell.business_date == day))
    session.execute(delete(ReportDay).where(ReportDay.business_date == day))
    if cells:
        session.execute(insert(ReportCell), [c.as_row() for c in cells])
    session.add(ReportDay(business_date=day, version=CELL_VERSION, built_at=clock.now()))
    session.flush()
    return len(cells)


def finalize_days(session: Session, clock: Clock) -> list[date]:
    """Store the cells of every day that became final and has none (of this layout) yet."""
    stored = {
        d
        for (d,) in session.execute(select(ReportDay.business_date).where(ReportDay.version == CELL_VERSION))
    }
    days = session.scalars(
        select(Ticket.business_date)
        .where(Ticket.business_date < clock.today())
        .group_by(Ticket.business_date)
    ).all()
    done: list[date] = []
    for day in days:
        if day not in stored and is_final(session, clock, day):
            store_day(session, clock, day)
            done.append(day)
    return done


def rebuild_days(session: Session, clock: Clock) -> list[date]:
    """Throw every stored cell away and store the final days again (after a layout change)."""
    session.execute(delete(ReportCell))
    session.execute(delete(ReportDay))
    return finalize_days(session, clock)


def by_key(cells: Iterable[Cell]) -> dict[CellKey, Cell]:
    """Cells by their key (tests and callers that look one up)."""
    return {(c.business_date, c.service_id, c.counter_id, c.staff_id): c for c in cells}


def group(cells: Iterable[Cell], attribute: str) -> dict[Any, list[Cell]]:
    """Cells grouped by one of their key attributes."""
    groups: dict[Any, list[Cell]] = defaultdict(list)
    for c in cells:
        groups[getattr(c, attribute)].append(c)
    return groups
