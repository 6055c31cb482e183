"""The estimate accuracy (DESIGN §12): estimates kept at issue against the waits that followed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from queue_engine.core.models import Ticket
from queue_engine.reporting.accuracy import accuracy_of, estimate_accuracy, is_close
from queue_engine.simulation import SimulationSettings, simulate


def test_close_means_within_a_quarter_or_two_minutes():
    assert is_close(600, 500)  # 100 s off, the floor is 120 s
    assert is_close(1250, 1000)  # 250 s off, a quarter of 1000 s
    assert not is_close(100, 600)  # 500 s too short
    assert not is_close(1300, 1000)


def test_accuracy_worked_by_hand():
    figures = accuracy_of([(600, 500), (100, 600), (0, 100)])
    assert figures == {"tickets": 3, "close_share": 0.6667, "median_abs_error_s": 100, "bias_s": -167}
    assert accuracy_of([])["tickets"] == 0


def test_a_simulated_day_keeps_every_estimate_and_measures_them(
    session, clock, make_service, make_counter, make_user
):
    """One short simulated day: every ticket keeps its estimate; the figure covers the called ones."""
    a, b = make_service("A"), make_service("B")
    make_counter("1", [a, b])
    make_counter("2", [a])
    make_user("clerk1")
    make_user("clerk2")
    day = clock.today() - timedelta(days=7)
    simulate(session, clock.tz, SimulationSettings(days=1, end=day, load=0.6, absence_p=0.0))
    tickets = list(session.scalars(select(Ticket).where(Ticket.business_date == day)))
    assert tickets and all(t.estimated_wait_s_at_issue is not None for t in tickets)
    called = [t for t in tickets if t.called_at is not None]
    figures = estimate_accuracy(session, day, day)
    assert figures["tickets"] == len(called)
    assert set(figures["services"]) == {"A", "B"}
    assert sum(s["tickets"] for s in figures["services"].values()) == len(called)
    assert figures["close_share"] is not None


def test_booked_visitors_are_simulated_and_measured_apart(
    session, clock, make_service, make_counter, make_user
):
    """A takes bookings: some of its simulated visitors book and check in; the figure splits them out."""
    from queue_engine.booking.models import BookingSettings
    from queue_engine.core.kinds import Source

    a, b = make_service("A"), make_service("B")
    session.add(
        BookingSettings(service_id=a.id, bookable=True, slot_minutes=15, capacity=4, cutoff_minutes=0)
    )
    make_counter("1", [a, b])
    make_counter("2", [a])
    make_user("clerk1")
    make_user("clerk2")
    session.commit()
    day = clock.today() - timedelta(days=7)
    simulate(session, clock.tz, SimulationSettings(days=1, end=day, load=0.8, absence_p=0.0, booked_p=0.4))
    tickets = list(session.scalars(select(Ticket).where(Ticket.business_date == day)))
    booked = [t for t in tickets if t.source == Source.APPOINTMENT]
    assert booked and {t.service.code for t in booked} == {"A"}  # B takes no bookings
    assert all(t.queued_at <= t.issued_at + timedelta(minutes=20) for t in booked)  # queued from the slot
    figures = estimate_accuracy(session, day, day)
    called_booked = sum(1 for t in booked if t.called_at is not None)
    assert figures["booked"]["tickets"] == called_booked > 0
    assert figures["walk_in"]["tickets"] + figures["booked"]["tickets"] == figures["tickets"]
    assert figures["services"]["A"]["booked"]["tickets"] == called_booked
    assert figures["services"]["B"]["booked"]["tickets"] == 0


def test_a_transferred_ticket_is_measured_to_its_first_call(session, clock, make_service, make_counter):
    """The estimate shown at issue was for the first call; the next service calls after a visit."""
    from queue_engine import call_next, issue_ticket, open_counter, transfer

    a, b = make_service("A"), make_service("B")
    desk = make_counter("1", [a, b])
    open_counter(session, clock, desk.id, None)
    session.commit()
    ticket = issue_ticket(session, clock, "A")
    shown = ticket.estimated_wait_s_at_issue
    assert shown == 0  # an idle counter calls at once
    clock.advance(seconds=60)
    call_next(session, clock, desk.id)
    clock.advance(minutes=20)  # the first visit
    transfer(session, clock, ticket.token, "B")
    call_next(session, clock, desk.id)
    session.commit()
    figures = estimate_accuracy(session, clock.today(), clock.today())
    assert (figures["tickets"], figures["median_abs_error_s"], figures["bias_s"]) == (1, 60, -60)
    assert figures["close_share"] == 1.0  # 60 s off: within the 2-minute floor, not 21 minutes off
