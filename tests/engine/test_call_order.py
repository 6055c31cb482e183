"""Who is called next: first come, first served across a counter's services, and the priority policies."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from queue_engine import (
    VisitRecord,
    call_next,
    call_ticket,
    finish_visit,
    issue_ticket,
    mark_no_show,
    transfer,
)
from queue_engine.core.errors import InvalidInput, NoTicketWaiting
from queue_engine.core.kinds import PriorityPolicy
from queue_engine.core.models import Ticket
from queue_engine.queue.ordering import call_sequence

from .helpers import events_of, ticket_row


def _issue(session, clock, code: str, *, priority: bool = False) -> Ticket:
    clock.advance(seconds=20)
    ticket = issue_ticket(session, clock, code, priority=priority)
    session.commit()
    return ticket


def _call(session, clock, counter_id: int) -> Ticket:
    """Call next, commit, and free the counter again (the visitor is served at once)."""
    clock.advance(seconds=5)
    ticket = call_next(session, clock, counter_id)
    session.commit()
    finish_visit(session, clock, ticket.token, VisitRecord("resolved"))
    session.commit()
    return ticket


def _drain(session, clock, counter_id: int) -> list[str]:
    called = []
    while True:
        try:
            called.append(_call(session, clock, counter_id).number)
        except NoTicketWaiting:
            session.rollback()
            return called


def test_earliest_ticket_first_across_the_counters_services(session, clock, make_service, make_counter):
    a, b, c = make_service("A"), make_service("B"), make_service("C")
    both = make_counter("1", [a, b])
    for code in ["B", "A", "C", "A", "B", "B", "C", "A"]:
        _issue(session, clock, code)
    # C is not served by this counter, so its tickets are left for others.
    assert _drain(session, clock, both.id) == ["B001", "A001", "A002", "B002", "B003", "A003"]
    only_c = make_counter("2", [c])
    assert _drain(session, clock, only_c.id) == ["C001", "C002"]


def test_same_issue_time_falls_back_to_issue_order(session, clock, make_service, make_counter):
    a, b = make_service("A"), make_service("B")
    counter = make_counter("1", [a, b])
    for code in ["B", "A", "B"]:
        issue_ticket(session, clock, code)  # the clock stands still: equal issue times
        session.commit()
    assert _drain(session, clock, counter.id) == ["B001", "A001", "B002"]


def test_issue_time_decides_not_the_order_rows_were_written(session, clock, make_service, make_counter):
    """Concurrent kiosks can write a later arrival's row first; the earlier arrival still goes first."""
    a, b = make_service("A"), make_service("B")
    counter = make_counter("1", [a, b])
    start = clock.now()
    # Rows written in this order; arrivals (seconds after start) in another.
    for service, seq, second in [(b, 1, 30), (a, 1, 10), (b, 2, 40), (a, 2, 20)]:
        session.execute(
            insert(Ticket).values(
                token=f"t{service.code}{seq}",
                service_id=service.id,
                issued_service_id=service.id,
                business_date=clock.today(),
                sequence=seq,
                number=f"{service.prefix}{seq:03d}",
                status="waiting",
                issued_at=start + timedelta(seconds=second),
            )
        )
    session.commit()
    clock.advance(minutes=1)
    assert _drain(session, clock, counter.id) == ["A001", "A002", "B001", "B002"]


def test_a_counter_with_nobody_waiting_for_its_services(session, clock, make_service, make_counter):
    a = make_service("A")
    make_service("B")
    counter = make_counter("1", [a])
    make_counter("idle", [])
    _issue(session, clock, "B")
    with pytest.raises(NoTicketWaiting):
        call_next(session, clock, counter.id)
    session.rollback()
    with pytest.raises(NoTicketWaiting):
        call_next(session, clock, counter.id + 1)  # serves no service at all
    session.rollback()


def test_a_no_show_is_not_called_again(session, clock, make_service, make_counter):
    a = make_service("A")
    counter = make_counter("1", [a])
    first = _issue(session, clock, "A")
    _issue(session, clock, "A")
    call_next(session, clock, counter.id)
    mark_no_show(session, clock, first.token)
    session.commit()
    assert _drain(session, clock, counter.id) == ["A002"]


def test_transferred_ticket_keeps_its_number_and_its_place(session, clock, make_service, make_counter):
    """A001 (issued first) is sent to B and goes before B's own earlier-numbered tickets."""
    a, b = make_service("A"), make_service("B")
    at_a = make_counter("1", [a])
    at_b = make_counter("2", [b])
    a1 = _issue(session, clock, "A")
    _issue(session, clock, "B")
    _issue(session, clock, "B")
    a2 = _issue(session, clock, "A")
    call_next(session, clock, at_a.id)
    clock.advance(minutes=10)
    transfer(session, clock, a1.token, "B")
    session.commit()
    _issue(session, clock, "B")  # arrives after the transfer

    assert _drain(session, clock, at_b.id) == ["A001", "B001", "B002", "B003"]
    moved = ticket_row(session, a1.id)
    assert (moved["service_id"], moved["issued_service_id"], moved["number"]) == (b.id, a.id, "A001")
    # Back at A, the queue goes on without the transferred ticket.
    assert _drain(session, clock, at_a.id) == [a2.number]


def test_transferred_ticket_goes_behind_earlier_tickets(session, clock, make_service, make_counter):
    a, b = make_service("A"), make_service("B")
    at_a = make_counter("1", [a])
    at_b = make_counter("2", [b])
    _issue(session, clock, "B")
    a1 = _issue(session, clock, "A")
    _issue(session, clock, "B")
    call_next(session, clock, at_a.id)
    transfer(session, clock, a1.token, "B")
    session.commit()
    assert _drain(session, clock, at_b.id) == ["B001", "A001", "B002"]


# Arrivals, in issue order: "n" a normal ticket, "p" a priority one.
ARRIVALS = "n n n p n p n"
POLICY_TABLE = [
    # (policy, every_n, arrivals, expected call order as indexes into the arrivals)
    (PriorityPolicy.STRICT, 3, ARRIVALS, [0, 1, 2, 3, 4, 5, 6]),
    (PriorityPolicy.PRIORITY_FIRST, 3, ARRIVALS, [3, 5, 0, 1, 2, 4, 6]),
    (PriorityPolicy.EVERY_N, 2, ARRIVALS, [0, 1, 3, 2, 4, 5, 6]),
    (PriorityPolicy.EVERY_N, 1, ARRIVALS, [0, 3, 1, 5, 2, 4, 6]),
    (PriorityPolicy.EVERY_N, 3, ARRIVALS, [0, 1, 2, 3, 4, 5, 6]),
    (PriorityPolicy.EVERY_N, 2, "n n n n n n p p p", [0, 1, 6, 2, 3, 7, 4, 5, 8]),
    # Priority tickets that came first are called in their turn: the policy only moves them up.
    (PriorityPolicy.EVERY_N, 2, "p p p n n n", [0, 1, 2, 3, 4, 5]),
    (PriorityPolicy.EVERY_N, 3, "n n n n n n n", [0, 1, 2, 3, 4, 5, 6]),
    (PriorityPolicy.PRIORITY_FIRST, 3, "p n p n", [0, 2, 1, 3]),
]


@pytest.mark.parametrize(
    ("policy", "every_n", "arrivals", "expected"),
    POLICY_TABLE,
    ids=[f"{p}-{n}-{a.replace(' ', '')}" for p, n, a, _ in POLICY_TABLE],
)
def test_priority_policy_call_order(
    session, clock, make_service, make_counter, configure_hall, policy, every_n, arrivals, expected
):
    configure_hall(priority_policy=policy, priority_every_n=every_n)
    a, b = make_service("A"), make_service("B")
    counter = make_counter("1", [a, b])
    # Alternate services so that the policy is seen to work across the counter's services.
    issued = [
        _issue(session, clock, "AB"[i % 2], priority=kind == "p") for i, kind in enumerate(arrivals.split())
    ]
    assert _drain(session, clock, counter.id) == [issued[i].number for i in expected]


def test_every_n_counts_calls_at_all_counters_of_the_services(
    session, clock, make_service, make_counter, configure_hall
):
    """Two counters share the rhythm: after two normal calls anywhere, the next is a priority one."""
    configure_hall(priority_policy=PriorityPolicy.EVERY_N, priority_every_n=2)
    a = make_service("A")
    one, two = make_counter("1", [a]), make_counter("2", [a])
    issued = [_issue(session, clock, "A", priority=kind == "p") for kind in "n n n p".split()]
    assert _call(session, clock, one.id).id == issued[0].id
    assert _call(session, clock, two.id).id == issued[1].id
    assert _call(session, clock, one.id).id == issued[3].id


def test_calling_out_of_order_keeps_the_reason_and_the_queue(session, clock, make_service, make_counter):
    a = make_service("A")
    counter = make_counter("1", [a])
    first, _second, third = (_issue(session, clock, "A") for _ in range(3))

    called = call_ticket(session, clock, counter.id, "a003", "  wheelchair user, cannot wait  ")
    session.commit()

    assert called.id == third.id
    event = events_of(session, third.id)[-1]
    assert event.type == "called"
    assert event.data == {"out_of_order": True, "reason": "wheelchair user, cannot wait"}
    # A call in turn carries no such mark.
    finish_visit(session, clock, third.token, VisitRecord("resolved"))
    session.commit()
    assert _call(session, clock, counter.id).id == first.id
    assert events_of(session, first.id)[1].data == {}
    assert _drain(session, clock, counter.id) == ["A002"]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_calling_out_of_order_needs_a_short_reason(session, clock, make_service, make_counter, reason):
    a = make_service("A")
    counter = make_counter("1", [a])
    ticket = _issue(session, clock, "A")
    with pytest.raises(InvalidInput):
        call_ticket(session, clock, counter.id, ticket.number, reason)
    session.rollback()
    assert ticket_row(session, ticket.id)["status"] == "waiting"
    assert len(events_of(session, ticket.id)) == 1


def test_calling_out_of_order_only_for_the_counters_services(session, clock, make_service, make_counter):
    a = make_service("A")
    make_service("B")
    counter = make_counter("1", [a])
    ticket = _issue(session, clock, "B")
    with pytest.raises(InvalidInput):
        call_ticket(session, clock, counter.id, ticket.token, "asked nicely")
    session.rollback()
    assert ticket_row(session, ticket.id)["status"] == "waiting"


@pytest.mark.parametrize(
    ("policy", "every_n"),
    [(PriorityPolicy.STRICT, 3), (PriorityPolicy.PRIORITY_FIRST, 3), (PriorityPolicy.EVERY_N, 2)],
)
def test_a_long_queue_is_called_in_the_whole_orders_order(
    session, clock, make_service, make_counter, configure_hall, policy, every_n
):
    """call_next reads only the head of the order; on a queue far longer than that head, every
    call is still the first of the whole order, and any head read is the whole order's head."""
    configure_hall(priority_policy=policy, priority_every_n=every_n)
    a, b = make_service("A"), make_service("B")
    counter = make_counter("1", [a, b])
    rng = random.Random(12)
    for _ in range(60):
        _issue(session, clock, rng.choice("AB"), priority=rng.random() < 0.3)
    ids, today = [a.id, b.id], clock.today()
    called = 0
    while True:
        whole = [t.id for t in call_sequence(session, ids, today)]
        for head in (1, 5, 8, 30):
            assert [t.id for t in call_sequence(session, ids, today, first=head)] == whole[:head]
        if not whole:
            break
        assert _call(session, clock, counter.id).id == whole[0]
        called += 1
        if called % 7 == 0:  # late arrivals join the queue while it is being called
            _issue(session, clock, rng.choice("AB"), priority=rng.random() < 0.3)
    assert called > 60


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: one writer at a time
def test_when_the_first_of_the_queue_are_being_called_elsewhere_the_next_free_one_is_called(
    engine, session, clock, make_service, make_counter
):
    """Another counter's transaction holds the first ten waiting tickets (more than the head
    call_next reads first): this counter gets the eleventh at once, not 'nobody waiting'."""
    a = make_service("A")
    counter = make_counter("1", [a])
    issued = [_issue(session, clock, "A") for _ in range(12)]
    with engine.connect() as other:
        other.execute(
            select(Ticket.id).where(Ticket.id.in_([t.id for t in issued[:10]])).with_for_update()
        ).all()
        called = call_next(session, clock, counter.id)
        assert called.id == issued[10].id
        session.commit()
        other.rollback()
