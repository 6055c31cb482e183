"""A session kept across transactions (expire_on_commit=False, as the fixtures and the bench use)
must decide on what the database holds now, not on what it read before."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from queue_engine import (
    VisitRecord,
    call_next,
    call_ticket,
    cancel,
    finish_visit,
    issue_ticket,
    mark_no_show,
    open_counter,
)
from queue_engine.core.errors import CounterInUse, InvalidTransition
from queue_engine.core.models import Counter, CounterSession, Ticket

from .helpers import event_types


def test_a_kept_session_sees_the_counter_opened_by_someone_else(
    session, session_factory, clock, make_service, make_counter, make_user
):
    a = make_service("A")
    counter = make_counter("1", [a])
    first, second = make_user("clerk1").id, make_user("clerk2").id
    issue_ticket(session, clock, "A")
    session.commit()
    with session_factory() as other:
        seen = other.get(Counter, counter.id)  # the desk PC's view of its counter, kept
        assert seen is not None and seen.state == "closed"
        other.commit()
        open_counter(session, clock, counter.id, first)
        session.commit()
        with pytest.raises(CounterInUse):
            call_next(other, clock, counter.id, second)
        other.rollback()
    assert session.scalar(select(func.count()).select_from(CounterSession)) == 1


def test_a_kept_session_sees_the_ticket_finished_elsewhere(
    session, session_factory, clock, make_service, make_counter
):
    """The desk PC still shows A001 as called; it was finished from the supervisor's screen."""
    a = make_service("A")
    counter = make_counter("1", [a])
    ticket = issue_ticket(session, clock, "A")
    call_next(session, clock, counter.id)
    session.commit()
    with session_factory() as desk:
        seen = desk.get(Ticket, ticket.id)
        assert seen is not None and seen.status == "called"
        desk.commit()
        finish_visit(session, clock, ticket.token, VisitRecord("resolved"))
        session.commit()
        with pytest.raises(InvalidTransition):
            mark_no_show(desk, clock, ticket.token)
        desk.rollback()
    assert event_types(session, ticket.id) == ["issued", "called", "finished"]


def test_a_kept_session_does_not_call_a_ticket_cancelled_meanwhile(
    session, session_factory, clock, make_service, make_counter
):
    a = make_service("A")
    counter = make_counter("1", [a])
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    with session_factory() as desk:
        seen = desk.get(Ticket, ticket.id)
        assert seen is not None and seen.status == "waiting"
        desk.commit()
        cancel(session, clock, ticket.token)
        session.commit()
        with pytest.raises(InvalidTransition):
            call_ticket(desk, clock, counter.id, "A001", "asked at the desk")
        desk.rollback()
    assert event_types(session, ticket.id) == ["issued", "cancelled"]
