"""The forecast an issue keeps, from the kept end of the pass (issue 12): the pass's own answer.

On SQLite an issue's forecast comes from the end of the forward pass kept before the write lock
(``estimates.prepare_at_issue``), with the tickets issued since played onto it, whenever the
new ticket comes last in the call order; anything else replays the pass.  Either way it must be
what the pass played with the ticket in the queue gives right after: what its page shows.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from queue_engine import (
    VisitRecord,
    call_next,
    cancel,
    finish_visit,
    issue_ticket,
    open_counter,
    pause_counter,
    resume_counter,
)
from queue_engine.core.errors import NoTicketWaiting
from queue_engine.core.kinds import ACTIVE_STATUSES, PriorityPolicy, TicketStatus
from queue_engine.core.models import Ticket
from queue_engine.queue import estimates
from queue_engine.queue.estimates import Forecast, forecast, issued_forecasts


def _shown(session, clock, ticket: Ticket) -> Forecast:
    """What the ticket's page shows right after its issue: the pass over its linked queue."""
    return forecast(session, clock, linked_to=ticket.service_id)[ticket.id]


def _kept(session, ticket: Ticket) -> Forecast:
    found = issued_forecasts(session, ticket)
    assert found is not None
    assert found[ticket.id].wait_s == ticket.estimated_wait_s_at_issue
    return found[ticket.id]


@pytest.fixture
def hall(session, clock, make_service, make_counter, make_user):
    """Four services over overlapping counters (1 = AB, 2 = BC, 3 = C, 4 = D, 5 = A), all open, and
    a morning of visits of different lengths, one visitor who gave up (patience) and a pause."""
    a, b, c, d = (make_service(code) for code in "ABCD")
    groups = {"1": [a, b], "2": [b, c], "3": [c], "4": [d], "5": [a]}
    counters = [make_counter(name, services).id for name, services in groups.items()]
    clerk = make_user("clerk").id
    for counter_id in counters:
        open_counter(session, clock, counter_id, clerk)
    session.commit()
    for n, counter_id in enumerate(counters * 2):
        ticket = issue_ticket(session, clock, "ABCD"[n % 4] if counter_id != counters[3] else "D")
        session.commit()
        try:
            called = call_next(session, clock, counter_id, clerk)
        except NoTicketWaiting:
            continue
        clock.advance(seconds=60 + 45 * n)
        finish_visit(session, clock, called.token, VisitRecord("resolved"))
        session.commit()
        if ticket.status == TicketStatus.WAITING and n == 3:
            clock.advance(seconds=400)
            cancel(session, clock, ticket.token)
            session.commit()
    pause_counter(session, clock, counters[4], clerk)
    clock.advance(minutes=7)
    resume_counter(session, clock, counters[4], clerk)
    session.commit()
    return counters, clerk


@pytest.mark.parametrize(
    "policy", [PriorityPolicy.STRICT, PriorityPolicy.PRIORITY_FIRST, PriorityPolicy.EVERY_N]
)
def test_the_kept_forecast_is_the_pass_with_the_ticket_in_it(
    session, clock, hall, configure_hall, policy, monkeypatch
):
    """A random morning of issues (some priority, some in a burst at one instant, some inside a
    transaction begun already), calls, finishes, cancels and pauses: every issue keeps exactly
    what its page shows right after, and most walk-ins are answered from the kept end."""
    configure_hall(priority_policy=policy, priority_every_n=2)
    counters, clerk = hall
    answered: list[int] = []
    last_call = estimates._IssueEnd.last_call

    def counted(self, service_id, now):
        answered.append(service_id)
        return last_call(self, service_id, now)

    monkeypatch.setattr(estimates._IssueEnd, "last_call", counted)
    rng = random.Random(f"issue-forecast-{policy}")
    issued = 0
    for step in range(160):
        roll = rng.random()
        if roll < 0.6:
            burst = rng.choice((1, 1, 3))  # several at one instant: each is played onto the kept end
            for _ in range(burst):
                ticket = issue_ticket(session, clock, rng.choice("AABCD"), priority=rng.random() < 0.1)
                session.commit()
                assert _kept(session, ticket) == _shown(session, clock, ticket), step
                issued += 1
        elif roll < 0.7:
            session.execute(select(1))  # a transaction begun already: nothing is read before the lock
            first = issue_ticket(session, clock, rng.choice("ABC"))
            second = issue_ticket(session, clock, rng.choice("ABC"))
            session.commit()
            for ticket in (first, second):
                assert ticket.estimated_wait_s_at_issue == _shown(session, clock, ticket).wait_s, step
            issued += 2
        elif roll < 0.85:
            counter_id = rng.choice(counters[:4])
            held = session.scalars(
                select(Ticket).where(Ticket.counter_id == counter_id, Ticket.status.in_(ACTIVE_STATUSES))
            ).first()
            if held is not None:
                finish_visit(session, clock, held.token, VisitRecord("resolved"))
            else:
                try:
                    call_next(session, clock, counter_id, clerk)
                except NoTicketWaiting:
                    pass
            session.commit()
        elif roll < 0.9:
            waiting = session.scalars(select(Ticket).where(Ticket.status == TicketStatus.WAITING)).all()
            if waiting:
                cancel(session, clock, rng.choice(waiting).token)
                session.commit()
        elif roll < 0.95:  # a pause and its end write no ticket event: the counters tell
            for change in (pause_counter, resume_counter):
                held = session.scalars(select(Ticket).where(Ticket.counter_id == counters[0])).all()
                if any(t.status in ACTIVE_STATUSES for t in held):
                    break
                change(session, clock, counters[0], clerk)
                session.commit()
                ticket = issue_ticket(session, clock, "B")
                session.commit()
                assert _kept(session, ticket) == _shown(session, clock, ticket), step
                issued += 1
        else:
            clock.advance(seconds=rng.choice((5, 30, 90)))
    assert issued > 100
    if session.get_bind().dialect.name == "sqlite":
        assert len(answered) > issued / 3  # the rest: priority tickets, or a change since the kept end
    else:
        assert answered == []  # PostgreSQL plays the pass at every issue


def test_a_kept_end_serves_for_a_second_only(session, clock, hall):
    """Within ``END_KEPT_S`` of the kept end the forecast is shifted by the time since (within a
    second of the pass then); later, the pass is played again (exact)."""
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    clock.advance(seconds=estimates.END_KEPT_S / 2)
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    assert abs(ticket.estimated_wait_s_at_issue - _shown(session, clock, ticket).wait_s) <= 1
    clock.advance(seconds=estimates.END_KEPT_S)
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    assert _kept(session, ticket) == _shown(session, clock, ticket)


def test_a_booked_ticket_checked_in_early_is_played_in_the_pass(session, clock, hall):
    """A booking queued from a slot to come is not last (walk-ins are foreseen before it): the
    pass is played with it, and the walk-ins after it are too (it is no longer the last)."""
    from queue_engine.booking.bookings import book, check_in
    from queue_engine.booking.models import BookingSettings
    from queue_engine.core.lookups import service_by_code

    a = service_by_code(session, "A")
    session.add(
        BookingSettings(service_id=a.id, bookable=True, slot_minutes=20, capacity=2, cutoff_minutes=0)
    )
    session.commit()
    for _ in range(3):
        issue_ticket(session, clock, "A")
        session.commit()
    now = clock.now().replace(second=0, microsecond=0)
    slot = now + timedelta(minutes=20 - now.minute % 20)  # the next slot's start, within 20 minutes
    booking = book(session, clock, "A", slot, name="张三", phone="13812345678")
    session.commit()
    booked = check_in(session, clock, booking)
    session.commit()
    assert booked.estimated_wait_s_at_issue == _shown(session, clock, booked).wait_s
    for _ in range(3):
        ticket = issue_ticket(session, clock, "A")
        session.commit()
        assert _kept(session, ticket) == _shown(session, clock, ticket)
