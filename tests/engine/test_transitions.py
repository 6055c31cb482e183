"""The ticket's life as a rule table: every operation from every status (DESIGN §3).

Each cell either moves the ticket to the right status and appends exactly one event row of the
right type, or raises the right named error and leaves the ticket and the event log untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from queue_engine import (
    FakeClock,
    VisitRecord,
    call_next,
    call_ticket,
    cancel,
    close_business_day,
    finish_visit,
    issue_ticket,
    mark_no_show,
    rate_visit,
    recall,
    start_service,
    transfer,
)
from queue_engine.core.errors import InvalidTransition, NoTicketWaiting, QueueError
from queue_engine.core.kinds import TicketStatus
from queue_engine.core.models import Counter, Service, Ticket, User

from .helpers import event_count, events_of, ticket_row

STATUSES = [str(s) for s in TicketStatus]


@dataclass
class Hall:
    """Two services and two counters serving both; clerk1 at counter 1, clerk2 at counter 2."""

    session: Session
    clock: FakeClock
    a: Service
    b: Service
    c1: Counter
    c2: Counter
    clerk1: User
    clerk2: User


@pytest.fixture
def hall(session, clock, make_service, make_counter, make_user) -> Hall:
    a, b = make_service("A"), make_service("B")
    return Hall(
        session,
        clock,
        a,
        b,
        make_counter("1", [a, b]),
        make_counter("2", [a, b]),
        make_user("clerk1"),
        make_user("clerk2"),
    )


def bring_to(h: Hall, status: str) -> Ticket:
    """A service-A ticket of today in a given status, committed; counter 1 holds it if active."""
    s, clock = h.session, h.clock
    ticket = issue_ticket(s, clock, "A")
    s.commit()
    if status in ("called", "serving", "done", "no_show"):
        clock.advance(minutes=1)
        assert call_next(s, clock, h.c1.id, h.clerk1.id).id == ticket.id
    if status in ("serving", "done"):
        clock.advance(minutes=1)
        start_service(s, clock, ticket.token, staff_id=h.clerk1.id, counter_id=h.c1.id)
    if status == "done":
        clock.advance(minutes=1)
        finish_visit(
            s, clock, ticket.token, VisitRecord("resolved"), staff_id=h.clerk1.id, counter_id=h.c1.id
        )
    if status == "no_show":
        mark_no_show(s, clock, ticket.token, staff_id=h.clerk1.id, counter_id=h.c1.id)
    if status == "cancelled":
        cancel(s, clock, ticket.token)
    if status == "expired":
        assert close_business_day(s, clock, day=clock.today()) == 1
    s.commit()
    assert ticket_row(s, ticket.id)["status"] == status
    clock.advance(minutes=1)
    return ticket


# Each operation as a clerk or visitor would do it; counter 2 is the free one.
OPERATIONS: dict[str, Callable[[Hall, Ticket], object]] = {
    "call_next": lambda h, t: call_next(h.session, h.clock, h.c2.id, h.clerk2.id),
    "call_ticket": lambda h, t: call_ticket(
        h.session, h.clock, h.c2.id, t.number, "frail visitor", h.clerk2.id
    ),
    "recall": lambda h, t: recall(h.session, h.clock, t.token, staff_id=h.clerk1.id, counter_id=h.c1.id),
    "mark_no_show": lambda h, t: mark_no_show(
        h.session, h.clock, t.token, staff_id=h.clerk1.id, counter_id=h.c1.id
    ),
    "start_service": lambda h, t: start_service(
        h.session, h.clock, t.token, staff_id=h.clerk1.id, counter_id=h.c1.id
    ),
    "finish_visit": lambda h, t: finish_visit(
        h.session, h.clock, t.token, VisitRecord("resolved"), staff_id=h.clerk1.id, counter_id=h.c1.id
    ),
    "transfer": lambda h, t: transfer(
        h.session, h.clock, t.token, "B", staff_id=h.clerk1.id, counter_id=h.c1.id
    ),
    "cancel": lambda h, t: cancel(h.session, h.clock, t.token),
    "rate_visit": lambda h, t: rate_visit(h.session, h.clock, t.token, 4),
}

# (operation, from status) -> (new status, event type, counter the event names).
ALLOWED: dict[tuple[str, str], tuple[str, str, str | None]] = {
    ("call_next", "waiting"): ("called", "called", "c2"),
    ("call_ticket", "waiting"): ("called", "called", "c2"),
    ("recall", "called"): ("called", "recalled", "c1"),
    ("mark_no_show", "called"): ("no_show", "no_show", "c1"),
    ("start_service", "called"): ("serving", "started", "c1"),
    ("finish_visit", "called"): ("done", "finished", "c1"),
    ("finish_visit", "serving"): ("done", "finished", "c1"),
    ("transfer", "called"): ("waiting", "transferred", "c1"),
    ("transfer", "serving"): ("waiting", "transferred", "c1"),
    ("cancel", "waiting"): ("cancelled", "cancelled", None),
    ("rate_visit", "done"): ("done", "rated", "c1"),
}

# What every other cell raises: nobody waiting for call-next, a refused transition otherwise.
REFUSAL: dict[str, type[QueueError]] = {op: InvalidTransition for op in OPERATIONS}
REFUSAL["call_next"] = NoTicketWaiting

CELLS = [(op, status) for op in OPERATIONS for status in STATUSES]


def _cell_id(op: str, status: str) -> str:
    outcome = ALLOWED[(op, status)][0] if (op, status) in ALLOWED else REFUSAL[op].__name__
    return f"{status}-{op}-{outcome}"


@pytest.mark.parametrize(("op", "status"), CELLS, ids=[_cell_id(*c) for c in CELLS])
def test_operation_from_status(hall: Hall, op: str, status: str) -> None:
    s, clock = hall.session, hall.clock
    ticket = bring_to(hall, status)
    before = ticket_row(s, ticket.id)
    events_before = event_count(s)

    if (op, status) not in ALLOWED:
        with pytest.raises(REFUSAL[op]):
            OPERATIONS[op](hall, ticket)
        # Refused before touching anything, so even a caller that committed would change nothing...
        s.flush()
        assert ticket_row(s, ticket.id) == before
        assert event_count(s) == events_before
        # ...and after the rollback the database is as it was.
        s.rollback()
        assert ticket_row(s, ticket.id) == before
        assert event_count(s) == events_before
        return

    new_status, event_type, event_counter = ALLOWED[(op, status)]
    OPERATIONS[op](hall, ticket)
    s.commit()
    after = ticket_row(s, ticket.id)
    assert after["status"] == new_status
    assert event_count(s) == events_before + 1
    last = events_of(s, ticket.id)[-1]
    assert last.type == event_type
    assert last.at == clock.now()
    counters = {"c1": hall.c1.id, "c2": hall.c2.id, None: None}
    assert last.counter_id == counters[event_counter]
    # The number never changes, whatever happens to the ticket.
    assert after["number"] == before["number"] == "A001"

    now = clock.now()
    if event_type == "called":
        assert (after["counter_id"], after["staff_id"]) == (hall.c2.id, hall.clerk2.id)
        assert (after["called_at"], after["call_count"]) == (now, 1)
    elif event_type == "recalled":
        assert after["call_count"] == before["call_count"] + 1 == 2
        assert after["called_at"] == before["called_at"]
    elif event_type == "started":
        assert after["started_at"] == now
    elif event_type == "finished":
        assert after["finished_at"] == now
        assert ticket.visit is not None and ticket.visit.outcome == "resolved"
    elif event_type == "transferred":
        assert after["service_id"] == hall.b.id
        assert after["issued_service_id"] == after["transferred_from_id"] == hall.a.id
        assert after["counter_id"] is None and after["called_at"] is None and after["started_at"] is None
        assert after["issued_at"] == before["issued_at"]
        assert last.data["to_service"] == "B"
    elif event_type in ("no_show", "cancelled"):
        assert after["closed_at"] == now
        assert after["counter_id"] == before["counter_id"]
    elif event_type == "rated":
        assert ticket.visit is not None and ticket.visit.rating == 4
        assert last.data["score"] == 4


# close_business_day run the next day: open tickets expire, closed ones are left alone.
EXPIRES = {"waiting": True, "called": True, "serving": True}


@pytest.mark.parametrize("status", STATUSES)
def test_close_business_day_from_status(hall: Hall, status: str) -> None:
    s, clock = hall.session, hall.clock
    ticket = bring_to(hall, status)
    before = ticket_row(s, ticket.id)
    events_before = event_count(s)
    clock.advance(days=1)

    expired = close_business_day(s, clock)
    s.commit()

    after = ticket_row(s, ticket.id)
    if EXPIRES.get(status, False):
        assert expired == 1
        assert after["status"] == "expired"
        assert after["closed_at"] == clock.now()
        assert event_count(s) == events_before + 1
        last = events_of(s, ticket.id)[-1]
        assert (last.type, last.data["was"], last.at) == ("expired", status, clock.now())
    else:
        assert expired == 0
        assert after == before
        assert event_count(s) == events_before


def test_issue_appends_one_issued_event(hall: Hall) -> None:
    s, clock = hall.session, hall.clock
    ticket = issue_ticket(s, clock, "A", source="web", priority=True)
    s.commit()
    [event] = events_of(s, ticket.id)
    assert (event.type, event.at, event.counter_id) == ("issued", clock.now(), None)
    assert event.data == {"source": "web", "priority": True}
    assert event_count(s) == 1


def test_a_whole_visit_leaves_one_event_per_step(hall: Hall) -> None:
    """Issue, call, recall, start, transfer, call again elsewhere, finish, rate: eight rows."""
    s, clock = hall.session, hall.clock
    h1, h2 = hall.clerk1.id, hall.clerk2.id
    ticket = issue_ticket(s, clock, "A")
    s.commit()
    steps: list[Callable[[], object]] = [
        lambda: call_next(s, clock, hall.c1.id, h1),
        lambda: recall(s, clock, ticket.token, staff_id=h1, counter_id=hall.c1.id),
        lambda: start_service(s, clock, ticket.token, staff_id=h1, counter_id=hall.c1.id),
        lambda: transfer(s, clock, ticket.token, "B", staff_id=h1, counter_id=hall.c1.id),
        lambda: call_next(s, clock, hall.c2.id, h2),
        lambda: finish_visit(
            s, clock, ticket.token, VisitRecord("resolved"), staff_id=h2, counter_id=hall.c2.id
        ),
        lambda: rate_visit(s, clock, ticket.token, 5, comment="quick"),
    ]
    for step in steps:
        clock.advance(minutes=2)
        step()
        s.commit()

    log = [(e.type, e.counter_id, e.staff_id) for e in events_of(s, ticket.id)]
    c1, c2 = hall.c1.id, hall.c2.id
    assert log == [
        ("issued", None, None),
        ("called", c1, h1),
        ("recalled", c1, h1),
        ("started", c1, h1),
        ("transferred", c1, h1),
        ("called", c2, h2),
        ("finished", c2, h2),
        ("rated", c2, None),
    ]
    times = [e.at for e in events_of(s, ticket.id)]
    assert times == [times[0] + timedelta(minutes=2 * i) for i in range(8)]
    assert event_count(s) == 8
