"""Staff mark a visitor as priority (老年人 / 残疾人 / 孕妇): one engine function, audited, and the
call order and positions follow the hall's policy."""

from __future__ import annotations

import pytest

from queue_engine import call_next, cancel, issue_ticket, mark_priority, open_counter
from queue_engine.core.errors import InvalidTransition, NotAtThisCounter
from queue_engine.core.lookups import ticket_by_token
from queue_engine.queue.ordering import call_sequence, tickets_ahead

from .helpers import events_of


@pytest.fixture
def hall(session, make_service, make_counter, make_user, configure_hall):
    """Counter 1 serves A, counter 2 serves B; the hall calls priority visitors first."""
    configure_hall(priority_policy="priority_first")
    a, b = make_service("A"), make_service("B")
    return make_counter("1", [a]), make_counter("2", [b]), make_user("clerk1")


def test_a_marked_ticket_is_called_first_and_told_so(session, clock, hall):
    counter, _, clerk = hall
    tickets = [issue_ticket(session, clock, "A") for _ in range(4)]
    session.commit()
    last = tickets[-1]
    assert tickets_ahead(session, last) == 3

    mark_priority(session, clock, last.token, staff_id=clerk.id, counter_id=counter.id)
    session.commit()

    assert tickets_ahead(session, ticket_by_token(session, last.token)) == 0
    order = call_sequence(session, [s.id for s in counter.services], clock.today())
    assert [t.number for t in order] == ["A004", "A001", "A002", "A003"]
    (marked,) = [e for e in events_of(session, last.id) if e.type == "priority_marked"]
    assert (marked.staff_id, marked.counter_id) == (clerk.id, counter.id)
    open_counter(session, clock, counter.id, clerk.id)
    assert call_next(session, clock, counter.id, clerk.id).number == "A004"


def test_marking_twice_records_one_event(session, clock, hall):
    counter, _, clerk = hall
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    for _ in range(2):
        mark_priority(session, clock, ticket.token, staff_id=clerk.id, counter_id=counter.id)
        session.commit()
    assert [e.type for e in events_of(session, ticket.id)].count("priority_marked") == 1


def test_only_a_waiting_or_called_ticket_of_this_counter_can_be_marked(session, clock, hall):
    counter, other, clerk = hall
    elsewhere = issue_ticket(session, clock, "B")
    session.commit()
    with pytest.raises(NotAtThisCounter):
        mark_priority(session, clock, elsewhere.token, staff_id=clerk.id, counter_id=counter.id)
    session.rollback()
    open_counter(session, clock, other.id, clerk.id)
    called = call_next(session, clock, other.id, clerk.id)
    session.commit()
    with pytest.raises(NotAtThisCounter):
        mark_priority(session, clock, called.token, staff_id=clerk.id, counter_id=counter.id)
    session.rollback()
    assert mark_priority(session, clock, called.token, staff_id=clerk.id, counter_id=other.id).priority
    session.commit()
    gone = issue_ticket(session, clock, "A")
    cancel(session, clock, gone.token)
    session.commit()
    with pytest.raises(InvalidTransition):
        mark_priority(session, clock, gone.token, staff_id=clerk.id)
