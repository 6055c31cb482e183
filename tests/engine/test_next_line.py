"""The board's "请 A013 号准备 · Next: A013" line names the ticket that call-next then calls."""

from __future__ import annotations

import random

import pytest

from queue_engine.core.errors import NoTicketWaiting
from queue_engine.core.kinds import PriorityPolicy
from queue_engine.queue.ordering import call_sequence
from queue_engine.queue.snapshots import display_snapshot

from .test_call_order import POLICY_TABLE, _call, _issue

# Every priority policy of the call-order table, with its arrivals.
by_policy = pytest.mark.parametrize(
    ("policy", "every_n", "arrivals", "expected"),
    POLICY_TABLE,
    ids=[f"{p}-{n}-{a.replace(' ', '')}" for p, n, a, _ in POLICY_TABLE],
)


@by_policy
def test_the_next_line_names_what_call_next_calls_under_each_policy(
    session, clock, make_service, make_counter, configure_hall, policy, every_n, arrivals, expected
):
    configure_hall(priority_policy=policy, priority_every_n=every_n)
    a, b = make_service("A"), make_service("B")
    counter = make_counter("1", [a, b])
    kinds = arrivals.split()
    for i, kind in enumerate(kinds):
        _issue(session, clock, "AB"[i % 2], priority=kind == "p")
    for _ in kinds:
        shown = display_snapshot(session, clock)["next"]
        called = _call(session, clock, counter.id)
        # The number called is the one the board told its service to get ready.
        assert shown[called.service.code] == called.number, (shown, called.number)
    assert display_snapshot(session, clock)["next"] == {}


@by_policy
def test_one_service_the_next_line_is_exactly_the_next_call(
    session, clock, make_service, make_counter, configure_hall, policy, every_n, arrivals, expected
):
    configure_hall(priority_policy=policy, priority_every_n=every_n)
    a = make_service("A")
    counter = make_counter("1", [a])
    issued = [_issue(session, clock, "A", priority=kind == "p") for kind in arrivals.split()]
    called = []
    while True:
        shown = display_snapshot(session, clock)["next"]
        try:
            ticket = _call(session, clock, counter.id)
        except NoTicketWaiting:
            session.rollback()
            assert shown == {}
            break
        assert shown == {"A": ticket.number}
        called.append(ticket.number)
    assert called == [issued[i].number for i in expected]


def test_the_next_line_follows_the_boards_area_and_skips_services_nobody_serves(
    session, clock, make_service, make_counter
):
    a, b = make_service("A"), make_service("B")
    make_service("Z", served=False)
    at_a = make_counter("1", [a])
    make_counter("2", [b])
    for code in "A B A B".split():
        _issue(session, clock, code)
    assert display_snapshot(session, clock)["next"] == {"A": "A001", "B": "B001"}
    assert display_snapshot(session, clock, services=["B"])["next"] == {"B": "B001"}
    # The "any" counter of the fixture serves every service: a board for counter 1 alone shows A.
    assert display_snapshot(session, clock, counters=[at_a.id])["next"] == {"A": "A001"}
    _call(session, clock, at_a.id)
    assert display_snapshot(session, clock)["next"] == {"A": "A002", "B": "B001"}
    # Nothing in the line but numbers.
    assert all(isinstance(n, str) for n in display_snapshot(session, clock)["next"].values())


@pytest.mark.parametrize(
    ("policy", "every_n"),
    [(PriorityPolicy.STRICT, 3), (PriorityPolicy.PRIORITY_FIRST, 3), (PriorityPolicy.EVERY_N, 2)],
)
def test_on_a_long_queue_each_service_is_told_its_first_in_the_whole_order(
    session, clock, make_service, make_counter, configure_hall, policy, every_n
):
    """The board reads only the head of a call order: a service whose first ticket lies far
    behind forty of another's (and one with nobody waiting) is still told exactly its first."""
    configure_hall(priority_policy=policy, priority_every_n=every_n)
    a, b, c = make_service("A"), make_service("B"), make_service("C")
    make_counter("1", [a, b, c])
    rng = random.Random(7)
    for i in range(70):
        code = "A" if i < 40 else rng.choice("AB")
        _issue(session, clock, code, priority=rng.random() < 0.2)
    whole = call_sequence(session, [a.id, b.id, c.id], clock.today())
    first = {}
    for ticket in whole:
        first.setdefault(ticket.service.code, ticket.number)
    assert set(first) == {"A", "B"}
    assert display_snapshot(session, clock)["next"] == first
