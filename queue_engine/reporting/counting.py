"""Report cells: one business day's figures for one (issued service, counter, clerk), counted from
the tickets; the sums a report takes over many cells.

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

How cells are stored once a day is closed and read back for a period: ``cells``.
"""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.kinds import OPEN_STATUSES, TicketStatus
from queue_engine.core.models import Ticket, TicketEvent, Visit

SECOND = timedelta(seconds=1)
_LITTLE = sys.byteorder == "little"

CellKey = tuple[date, int, int | None, int | None]


def ints(size: int = 0) -> array[int]:
    """A zeroed int32 array of ``size`` values."""
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


NO_HOURS = pack(ints(24))
NO_RATINGS = pack(ints(5))


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
            "waits": ints(),
            "walks": ints(),
            "service_times": ints(),
            "arrivals_by_hour": ints(24),
            "served_by_hour": ints(24),
            "ratings": ints(5),
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


def _count_transfers(
    session: Session, first: date, last: date, builders: dict[CellKey, _Builder]
) -> dict[int, datetime]:
    """Count each transfer in the cell it left; return the first call of every transferred ticket."""
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
    return first_calls


_TICKET_COLUMNS = (
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


def _count_ticket(
    b: _Builder,
    local: Callable[[datetime], datetime],
    status: str,
    issued: datetime,
    first_call: datetime | None,
    called: datetime | None,
    started: datetime | None,
    finished: datetime | None,
    rating: int | None,
) -> None:
    """Add one ticket to its cell: its status, hour of issue, wait, walk, service time, rating."""
    counts, arrays = b.counts, b.arrays
    counts["issued"] += 1
    counts["open" if status in OPEN_STATUSES else _STATUS_FIELD[status]] += 1
    arrays["arrivals_by_hour"][local(issued).hour] += 1
    if first_call is not None:
        arrays["waits"].append((first_call - issued) // SECOND)
    if called is not None and started is not None and started > called:
        arrays["walks"].append((started - called) // SECOND)
    if status == TicketStatus.DONE and started is not None and finished is not None:
        arrays["service_times"].append((finished - started) // SECOND)
        arrays["served_by_hour"][local(finished).hour] += 1
        if rating is not None and 1 <= rating <= 5:
            arrays["ratings"][rating - 1] += 1


def build_cells(session: Session, clock: Clock, first: date, last: date) -> list[Cell]:
    """The cells of business days ``first``..``last``, computed from the tickets themselves."""
    builders: dict[CellKey, _Builder] = defaultdict(_Builder)
    first_calls = _count_transfers(session, first, last, builders)
    rows = session.execute(
        select(*_TICKET_COLUMNS)
        .outerjoin(Visit, Visit.ticket_id == Ticket.id)
        .where(Ticket.business_date.between(first, last))
    )
    local = clock.local
    for (
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
    ) in rows:
        _count_ticket(
            builders[(day, service_id, counter_id, staff_id)],
            local,
            status,
            issued,
            first_calls.get(ticket_id, called),
            called,
            started,
            finished,
            rating,
        )
    return [b.cell(key) for key, b in builders.items()]


def live_ratings(session: Session, days: Iterable[date]) -> dict[CellKey, bytes]:
    """The rating counts (1-5) of some days' finished visits, per cell key, read now."""
    counts: dict[CellKey, array[int]] = defaultdict(lambda: ints(5))
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
