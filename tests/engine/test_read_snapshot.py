"""A screen's read (``read_only``: every GET, every snapshot the publisher builds) sees one
snapshot of the database, on both databases: a ticket called while a board's snapshot is being
built never shows up as "called" with the counter of the copy loaded before (counter None)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine import call_next, issue_ticket, open_counter
from queue_engine.core.db import read_only
from queue_engine.core.kinds import ACTIVE_STATUSES
from queue_engine.core.models import Ticket


def test_a_call_committed_in_the_middle_of_a_read_is_not_half_seen(
    session, session_factory, clock, make_service, make_counter
):
    service = make_service("A")
    counter = make_counter("1", [service])
    ticket = issue_ticket(session, clock, "A")
    session.commit()

    with read_only(), session_factory() as screen:
        waiting = screen.get(Ticket, ticket.id)  # the screen's first look: still waiting
        assert waiting is not None and waiting.counter_id is None
        with Session(session.get_bind()) as clerk:
            open_counter(clerk, clock, counter.id, None)
            call_next(clerk, clock, counter.id)
            clerk.commit()
        active = screen.scalars(select(Ticket).where(Ticket.status.in_(ACTIVE_STATUSES))).all()
        screen.rollback()

    # Either the screen saw the call whole or not at all; never a "called" row with no counter.
    assert all(t.counter_id is not None for t in active)
    assert active == []
