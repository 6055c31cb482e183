"""The counter's rating tablet asks only about the visit just finished on the duty under way."""

from __future__ import annotations

import pytest

from queue_engine import VisitRecord, call_next, close_counter, finish_visit, issue_ticket, open_counter
from queue_engine.core.errors import NothingToRate
from queue_engine.core.models import Visit
from queue_engine.quality.ratings import Rating, rate_at_counter
from queue_engine.queue.snapshots import awaiting_rating


@pytest.fixture
def counter_1(session, make_service, make_counter, make_user):
    """Counter 1 serving A, and its clerk."""
    service = make_service("A")
    return make_counter("1", [service]), make_user("clerk1")


def _serve(session, clock, counter, clerk):
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    call_next(session, clock, counter.id, clerk.id)
    clock.advance(minutes=3)
    finish_visit(session, clock, ticket.token, VisitRecord("resolved"), staff_id=clerk.id)
    session.commit()
    return ticket


def test_the_tablet_asks_about_the_visit_just_finished(session, clock, counter_1):
    counter, clerk = counter_1
    ticket = _serve(session, clock, counter, clerk)
    assert awaiting_rating(session, clock, counter.id) == {
        "token": ticket.token,
        "number": "A001",
        "service": "A",
    }
    rate_at_counter(session, clock, counter.id, ticket.token, Rating(score=5))
    session.commit()
    assert session.get(Visit, ticket.visit.id).rating == 5
    assert awaiting_rating(session, clock, counter.id) is None


def test_a_visit_from_before_the_counter_was_closed_and_reopened_is_not_asked_about(
    session, clock, counter_1
):
    counter, clerk = counter_1
    earlier = _serve(session, clock, counter, clerk)
    clock.advance(minutes=1)
    close_counter(session, clock, counter.id, clerk.id)
    session.commit()
    assert awaiting_rating(session, clock, counter.id) is None  # closed: nobody to ask
    clock.advance(minutes=1)
    open_counter(session, clock, counter.id, clerk.id)
    session.commit()
    # The next visitor at the reopened counter is not asked about the visit before it.
    assert awaiting_rating(session, clock, counter.id) is None
    with pytest.raises(NothingToRate):
        rate_at_counter(session, clock, counter.id, earlier.token, Rating(score=1))
    session.rollback()
    assert session.get(Visit, earlier.visit.id).rating is None
    later = _serve(session, clock, counter, clerk)
    assert awaiting_rating(session, clock, counter.id)["token"] == later.token


def test_the_tablet_rates_only_the_visit_it_is_asking_about(session, clock, counter_1):
    counter, clerk = counter_1
    first = _serve(session, clock, counter, clerk)
    _serve(session, clock, counter, clerk)
    with pytest.raises(NothingToRate):
        rate_at_counter(session, clock, counter.id, first.token, Rating(score=2))
