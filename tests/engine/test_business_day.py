"""The business day: yesterday's queue is never called today, and closing a day expires what is left."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from queue_engine import (
    VisitRecord,
    call_next,
    call_ticket,
    cancel,
    close_business_day,
    finish_visit,
    issue_ticket,
    mark_no_show,
    start_service,
)
from queue_engine.core.errors import InvalidTransition, NoTicketWaiting, UnknownTicket
from queue_engine.core.models import Ticket

from .helpers import event_count, event_types, ticket_row


def test_yesterdays_waiting_tickets_are_not_called_today(session, clock, make_service, make_counter):
    a = make_service("A")
    counter = make_counter("1", [a])
    old = [issue_ticket(session, clock, "A") for _ in range(2)]
    session.commit()

    clock.advance(days=1)
    with pytest.raises(NoTicketWaiting):
        call_next(session, clock, counter.id)
    session.rollback()

    today = issue_ticket(session, clock, "A")
    session.commit()
    assert today.number == "A001"
    assert call_next(session, clock, counter.id).id == today.id
    session.commit()
    assert [ticket_row(session, t.id)["status"] for t in old] == ["waiting", "waiting"]


def test_yesterdays_ticket_cannot_be_called_out_of_order_today(session, clock, make_service, make_counter):
    """Not by its number (today's A001 is someone else) and not by its token either."""
    a = make_service("A")
    counter = make_counter("1", [a])
    old = issue_ticket(session, clock, "A")
    session.commit()
    clock.advance(days=1)

    with pytest.raises(UnknownTicket):
        call_ticket(session, clock, counter.id, old.number, "came back")
    session.rollback()
    with pytest.raises(InvalidTransition):
        call_ticket(session, clock, counter.id, old.token, "came back")
    session.rollback()
    assert ticket_row(session, old.id)["status"] == "waiting"
    assert event_types(session, old.id) == ["issued"]

    today = issue_ticket(session, clock, "A")
    session.commit()
    called = call_ticket(session, clock, counter.id, "A001", "came back")
    assert called.id == today.id


def test_close_business_day_expires_what_was_left_open(session, clock, make_service, make_counter):
    a = make_service("A")
    one, two, three = (make_counter(name, [a]) for name in ("1", "2", "3"))
    monday = {name: issue_ticket(session, clock, "A") for name in ("called", "serving", "done", "no_show")}
    session.commit()
    for counter in (one, two, three):
        call_next(session, clock, counter.id)
    start_service(session, clock, monday["serving"].token)
    finish_visit(session, clock, monday["done"].token, VisitRecord("resolved"))
    session.commit()
    call_next(session, clock, three.id)
    mark_no_show(session, clock, monday["no_show"].token)
    monday["waiting"] = issue_ticket(session, clock, "A")
    monday["cancelled"] = issue_ticket(session, clock, "A")
    cancel(session, clock, monday["cancelled"].token)
    session.commit()
    assert {k: t.status for k, t in monday.items()} == {k: k for k in monday}

    # Tuesday, 08:00 in the hall: one ticket already taken before the day is closed.
    clock.set(datetime(2026, 1, 6, 0, 0, tzinfo=UTC))
    tuesday = issue_ticket(session, clock, "A")
    session.commit()
    tickets_before = session.scalar(select(func.count()).select_from(Ticket))
    events_before = event_count(session)

    assert close_business_day(session, clock) == 3
    session.commit()

    rows = {k: ticket_row(session, t.id) for k, t in monday.items()}
    for name in ("waiting", "called", "serving"):
        assert rows[name]["status"] == "expired"
        assert rows[name]["closed_at"] == clock.now()
        assert event_types(session, monday[name].id)[-1] == "expired"
    for name in ("done", "no_show", "cancelled"):
        assert rows[name]["status"] == name
    assert ticket_row(session, tuesday.id)["status"] == "waiting"
    assert session.scalar(select(func.count()).select_from(Ticket)) == tickets_before  # nothing deleted
    assert event_count(session) == events_before + 3

    # The counters that were left holding Monday's visitors can call Tuesday's queue.
    assert call_next(session, clock, one.id).id == tuesday.id
    session.commit()
    # Closing again finds nothing more to do.
    assert close_business_day(session, clock) == 0
    session.commit()
    assert event_count(session) == events_before + 4  # only Tuesday's call was added


def test_close_business_day_up_to_a_given_day(session, clock, make_service):
    make_service("A")
    by_day = {}
    for day in (5, 6, 7):
        clock.set(datetime(2026, 1, day, 2, 0, tzinfo=UTC))
        by_day[day] = issue_ticket(session, clock, "A")
        session.commit()

    assert close_business_day(session, clock, day=date(2026, 1, 6)) == 2
    session.commit()
    assert [ticket_row(session, by_day[d].id)["status"] for d in (5, 6, 7)] == [
        "expired",
        "expired",
        "waiting",
    ]


def test_close_business_day_leaves_today_open(session, clock, make_service):
    """By default only days before today are closed, whatever the hour."""
    make_service("A")
    clock.set(datetime(2026, 1, 5, 15, 58, tzinfo=UTC))  # 23:58 in Shanghai
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    assert close_business_day(session, clock) == 0
    clock.set(datetime(2026, 1, 5, 16, 2, tzinfo=UTC))  # 00:02, the next business day
    assert close_business_day(session, clock) == 1
    session.commit()
    assert ticket_row(session, ticket.id)["status"] == "expired"
