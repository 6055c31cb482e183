"""The history generator: past days made through the engine, consistent with its own counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from queue_engine.core.errors import QueueError
from queue_engine.core.kinds import OPEN_STATUSES, Category
from queue_engine.core.models import Complaint, Counter, CounterSession, Ticket, TicketEvent, User, Visit
from queue_engine.queue.calling import call_next, finish_visit
from queue_engine.queue.counters import close_counter, open_counter
from queue_engine.queue.tickets import issue_ticket
from queue_engine.queue.visit_record import VisitRecord
from queue_engine.reporting.reports import report
from queue_engine.simulation import HallInUse, SimulationSettings, simulate

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def small_hall(make_service, make_counter, make_user):
    """Three services, two counters, two clerks."""
    a = make_service("A", category=Category.INQUIRY, target_wait_min=10, sort_order=1)
    b = make_service("B", category=Category.TRANSACTION, target_wait_min=20, sort_order=2)
    c = make_service("C", category=Category.COMPLAINT, target_wait_min=15, sort_order=3)
    make_counter("1", [a, b, c])
    make_counter("2", [a, b])
    make_user("clerk1")
    make_user("clerk2")


def ids(session, model, column, *values) -> list[int]:
    """The ids of the rows whose ``column`` holds each of ``values``, in that order."""
    return [session.scalar(select(model.id).where(getattr(model, column) == v)) for v in values]


def count(session, model, *where) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)))


def test_simulated_days_go_through_the_engine_and_add_up(session, clock, small_hall):
    settings = SimulationSettings(
        days=3, seed=7, end=date(2026, 1, 7), load=0.5, rating_p=0.9, complaint_p=0.2
    )

    result = simulate(session, TZ, settings)

    assert result.days == [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]  # Monday to Wednesday
    tickets = count(session, Ticket)
    assert tickets == result.counts["issued"] > 50
    assert count(session, Ticket, Ticket.status.in_(OPEN_STATUSES)) == 0  # every day was closed
    assert count(session, Ticket, Ticket.status == "done") == result.counts["served"]
    assert count(session, Ticket, Ticket.status == "no_show") == result.counts.get("no_show", 0)
    assert count(session, Ticket, Ticket.status == "cancelled") == result.counts.get("cancelled", 0)
    assert count(session, Ticket, Ticket.status == "expired") == result.counts.get("expired", 0)
    assert count(session, TicketEvent, TicketEvent.type == "issued") == tickets
    assert count(session, TicketEvent, TicketEvent.type == "transferred") == result.counts.get(
        "transferred", 0
    )
    assert count(session, Visit, Visit.rating.is_not(None)) == result.counts["ratings"] > 0
    assert count(session, Complaint) == result.counts["complaints"] > 0
    assert count(session, CounterSession) >= 3  # counters opened (and closed) every day
    assert count(session, CounterSession, CounterSession.closed_at.is_(None)) == 0
    # Arrivals follow opening hours (08:30-17:30 by default): no ticket outside them.
    hours = {t.astimezone(TZ).hour for t in session.scalars(select(Ticket.issued_at))}
    assert hours <= set(range(8, 18))
    summary = report(session, clock, date(2026, 1, 5), date(2026, 1, 7))["totals"]
    assert (summary["issued"], summary["served"]) == (tickets, result.counts["served"])


def test_a_second_run_skips_the_days_it_made(session, small_hall):
    settings = SimulationSettings(days=1, seed=1, end=date(2026, 1, 5), load=0.3)
    first = simulate(session, TZ, settings)
    again = simulate(session, TZ, settings)

    assert first.days == [date(2026, 1, 5)] and first.counts["issued"] > 0
    assert again.days == [] and again.skipped == [date(2026, 1, 5)]
    assert count(session, Ticket) == first.counts["issued"]


def test_weekends_stay_empty_in_a_hall_without_opening_hours(session, small_hall):
    result = simulate(session, TZ, SimulationSettings(days=2, seed=1, end=date(2026, 1, 11), load=0.3))

    assert result.days == []
    assert count(session, Ticket) == 0


def test_a_hall_in_use_is_refused_and_nothing_is_written(session, clock, small_hall):
    # A real morning: a complaint made at a visit still open, and a visitor waiting for A.
    one, two = ids(session, Counter, "name", "1", "2")
    clerk1, clerk2 = ids(session, User, "username", "clerk1", "clerk2")
    complained = issue_ticket(session, clock, "C")
    call_next(session, clock, one, clerk1)
    finish_visit(
        session,
        clock,
        complained.token,
        VisitRecord(outcome="follow_up", description="Queue jumped", complaint_department="Office"),
        staff_id=clerk1,
        counter_id=one,
    )
    close_counter(session, clock, one, clerk1, "")
    waiting = issue_ticket(session, clock, "A")
    session.commit()
    before = (count(session, Ticket), count(session, TicketEvent), count(session, CounterSession))
    day = clock.today()

    with pytest.raises(HallInUse) as refused:
        simulate(session, TZ, SimulationSettings(days=5, seed=1, end=day - timedelta(days=1)))

    assert "2 ticket(s) not made by the simulator" in refused.value.message
    session.rollback()
    assert (count(session, Ticket), count(session, TicketEvent), count(session, CounterSession)) == before
    assert session.get(Ticket, waiting.id).status == "waiting"  # not expired by the simulated day close
    assert session.scalar(select(Complaint.status)) == "open"  # not moved on with invented resolutions


def test_a_counter_on_duty_is_refused(session, clock, small_hall):
    (two,) = ids(session, Counter, "name", "2")
    open_counter(session, clock, two, ids(session, User, "username", "clerk2")[0])
    session.commit()

    with pytest.raises(HallInUse) as refused:
        simulate(session, TZ, SimulationSettings(days=1, seed=1, end=date(2026, 1, 5)))

    assert "on duty now: 2" in refused.value.message
    assert count(session, Ticket) == 0


def test_the_counters_are_left_as_they_were_found(session, clock, small_hall):
    since = datetime(2025, 12, 1, 1, 0, tzinfo=UTC)
    for counter in session.scalars(select(Counter)):
        counter.state_since = since
    session.commit()

    simulate(session, TZ, SimulationSettings(days=1, seed=1, end=date(2026, 1, 5), load=0.3))

    session.expire_all()
    assert {(c.state, c.staff_id, c.state_since) for c in session.scalars(select(Counter))} == {
        ("closed", None, since)
    }
    assert count(session, Ticket, Ticket.simulated.is_(False)) == 0  # its tickets are marked as its own


def test_only_past_days_are_simulated(session, small_hall):
    with pytest.raises(QueueError, match="past days only"):
        simulate(session, TZ, SimulationSettings(days=1, end=datetime.now(TZ).date()))
