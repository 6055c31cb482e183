"""Counters' pauses (``counter_pauses``) and the estimates across the lunch pause (issue 17).

Every pause is one row, written by ``pause_counter`` and ended by ``resume_counter`` or by
``close_counter``.  The forward pass learns from the past week's rows when each counter
usually pauses: a counter that would be free inside its usual pause calls at the pause's end,
and one paused now is back at its start plus the usual length.  Here two counters serve A,
each visit takes 315 s (no history: 300 s plus 15 s turnaround), and on the three days before
today both counters paused from 12:00 to 13:00.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from queue_engine import close_counter, issue_ticket, open_counter, pause_counter, resume_counter
from queue_engine.core.models import CounterPause, Service, Ticket
from queue_engine.queue.estimates import forecast

TODAY = date(2026, 1, 5)  # the clock fixture's Monday


def _at(clock, day, hour: int, minute: int = 0) -> None:
    clock.set(datetime.combine(day, time(hour, minute), clock.tz))


def _two_counters(session, make_service, make_counter, make_user):
    a = make_service("A")
    counters = [(make_counter(name, [a]).id, make_user(f"clerk{name}").id) for name in ("1", "2")]
    return counters


def _lunch_on_past_days(session, clock, counters, days: int = 3, coffee: bool = False) -> None:
    """The counters opened at 08:30, paused 12:00-13:00 (and with ``coffee`` 15:00-15:15) and
    closed at 17:00 on each of ``days`` days."""
    acts = [(8 * 60 + 30, "open"), (12 * 60, "pause"), (13 * 60, "resume"), (17 * 60, "close")]
    if coffee:
        acts[3:3] = [(15 * 60, "pause"), (15 * 60 + 15, "resume")]
    for back in range(days, 0, -1):
        day = TODAY - timedelta(days=back)
        for moment, act in acts:
            _at(clock, day, moment // 60, moment % 60)
            for counter_id, clerk in counters:
                if act == "open":
                    open_counter(session, clock, counter_id, clerk)
                elif act == "pause":
                    pause_counter(session, clock, counter_id, clerk)
                elif act == "resume":
                    resume_counter(session, clock, counter_id, clerk)
                else:
                    close_counter(session, clock, counter_id, clerk, "")
    session.commit()


def _open_today(session, clock, counters) -> None:
    _at(clock, TODAY, 8, 30)
    for counter_id, clerk in counters:
        open_counter(session, clock, counter_id, clerk)
    session.commit()


def _issue(session, clock, n: int) -> list[Ticket]:
    tickets = [issue_ticket(session, clock, "A") for _ in range(n)]
    session.commit()
    return tickets


def test_a_pause_and_its_resume_are_one_row_with_both_times(
    session, clock, make_service, make_counter, make_user
):
    ((counter_id, clerk), _) = _two_counters(session, make_service, make_counter, make_user)
    open_counter(session, clock, counter_id, clerk)
    paused_at = clock.now()
    pause_counter(session, clock, counter_id, clerk)
    clock.advance(minutes=20)
    resume_counter(session, clock, counter_id, clerk)
    session.commit()

    (pause,) = session.scalars(select(CounterPause)).all()
    assert (pause.counter_id, pause.staff_id, pause.business_date) == (counter_id, clerk, TODAY)
    assert (pause.started_at, pause.ended_at) == (paused_at, paused_at + timedelta(minutes=20))


def test_closing_a_paused_counter_ends_its_pause(session, clock, make_service, make_counter, make_user):
    ((counter_id, clerk), _) = _two_counters(session, make_service, make_counter, make_user)
    open_counter(session, clock, counter_id, clerk)
    pause_counter(session, clock, counter_id, clerk)
    clock.advance(minutes=5)
    closed_at = clock.now()
    close_counter(session, clock, counter_id, clerk, "")
    open_counter(session, clock, counter_id, clerk)  # the next stretch starts with no pause
    session.commit()

    (pause,) = session.scalars(select(CounterPause)).all()
    assert pause.ended_at == closed_at


def test_a_ticket_issued_before_lunch_waits_through_it(session, clock, make_service, make_counter, make_user):
    """At 11:50 both counters call two visitors each before 12:00; the fifth and sixth are
    called when the counters come back at 13:00 (70 minutes), not at 12:00:30."""
    counters = _two_counters(session, make_service, make_counter, make_user)
    _lunch_on_past_days(session, clock, counters)
    _open_today(session, clock, counters)
    _at(clock, TODAY, 11, 50)

    tickets = _issue(session, clock, 6)

    assert [t.estimated_wait_s_at_issue for t in tickets] == [0, 0, 315, 315, 4200, 4200]
    assert [forecast(session, clock)[t.id].wait_s for t in tickets] == [0, 0, 315, 315, 4200, 4200]


def test_a_ticket_issued_after_lunch_waits_none_of_it(session, clock, make_service, make_counter, make_user):
    """Today's lunch was taken (12:00-13:00): at 13:10 the queue is played without a pause."""
    counters = _two_counters(session, make_service, make_counter, make_user)
    _lunch_on_past_days(session, clock, counters)
    _open_today(session, clock, counters)
    _at(clock, TODAY, 12, 0)
    for counter_id, clerk in counters:
        pause_counter(session, clock, counter_id, clerk)
    _at(clock, TODAY, 13, 0)
    for counter_id, clerk in counters:
        resume_counter(session, clock, counter_id, clerk)
    _at(clock, TODAY, 13, 10)

    tickets = _issue(session, clock, 6)

    assert [t.estimated_wait_s_at_issue for t in tickets] == [0, 0, 315, 315, 630, 630]


def test_a_counter_at_lunch_is_back_at_its_usual_end(session, clock, make_service, make_counter, make_user):
    """At 12:20 both counters have been at lunch since 12:00: the first visitor waits until 13:00
    (the lunch's usual hour, not the 37.5 minutes all pauses, lunch and coffee, last on average)."""
    counters = _two_counters(session, make_service, make_counter, make_user)
    _lunch_on_past_days(session, clock, counters, coffee=True)
    _open_today(session, clock, counters)
    _at(clock, TODAY, 12, 0)
    for counter_id, clerk in counters:
        pause_counter(session, clock, counter_id, clerk)
    _at(clock, TODAY, 12, 20)

    tickets = _issue(session, clock, 3)

    assert [t.estimated_wait_s_at_issue for t in tickets] == [2400, 2400, 2715]


def test_one_days_coffee_break_is_not_expected_again(session, clock, make_service, make_counter, make_user):
    """Yesterday counter 1 also paused at 18:00 for 15 minutes, once in three days: at 17:55
    nobody expects it."""
    counters = _two_counters(session, make_service, make_counter, make_user)
    _lunch_on_past_days(session, clock, counters)
    counter_id, clerk = counters[0]
    yesterday = TODAY - timedelta(days=1)
    _at(clock, yesterday, 18, 0)
    open_counter(session, clock, counter_id, clerk)
    pause_counter(session, clock, counter_id, clerk)
    clock.advance(minutes=15)
    close_counter(session, clock, counter_id, clerk, "")
    _open_today(session, clock, counters)
    _at(clock, TODAY, 17, 55)

    tickets = _issue(session, clock, 4)

    assert [t.estimated_wait_s_at_issue for t in tickets] == [0, 0, 315, 315]


def test_a_counter_new_this_week_takes_the_halls_lunch(session, clock, make_service, make_counter, make_user):
    """Counter 3, on duty for the first time, is expected to lunch when the others do."""
    counters = _two_counters(session, make_service, make_counter, make_user)
    _lunch_on_past_days(session, clock, counters)
    (service,) = [s for s in session.scalars(select(Service))]
    new = (make_counter("3", [service]).id, make_user("clerk3").id)
    _open_today(session, clock, [new])
    _at(clock, TODAY, 11, 55)

    tickets = _issue(session, clock, 3)

    assert [t.estimated_wait_s_at_issue for t in tickets] == [0, 3900, 4215]


def test_a_counter_that_paused_after_its_visit_meant_to_pause_during_it(
    session, clock, make_service, make_counter, make_user
):
    """Yesterday counter 1 called a visitor at 11:40, finished at 11:58:20 and paused 40 s later
    until 12:30: its lunch was due during that visit (its middle expected, 11:49:10), so at
    11:50 today it calls nobody before 12:30 (before, taken from 11:59, it called one more)."""
    from queue_engine import VisitRecord, call_next, finish_visit

    ((counter_id, clerk), _) = _two_counters(session, make_service, make_counter, make_user)
    yesterday = TODAY - timedelta(days=1)
    _at(clock, yesterday, 8, 30)
    open_counter(session, clock, counter_id, clerk)
    _at(clock, yesterday, 11, 40)
    (visitor,) = _issue(session, clock, 1)
    call_next(session, clock, counter_id, clerk)
    clock.advance(seconds=18 * 60 + 20)
    finish_visit(
        session, clock, visitor.token, VisitRecord("resolved"), staff_id=clerk, counter_id=counter_id
    )
    clock.advance(seconds=40)
    pause_counter(session, clock, counter_id, clerk)
    _at(clock, yesterday, 12, 30)
    resume_counter(session, clock, counter_id, clerk)
    _at(clock, yesterday, 17, 0)
    close_counter(session, clock, counter_id, clerk, "")
    _open_today(session, clock, [(counter_id, clerk)])
    _at(clock, TODAY, 11, 50)

    tickets = _issue(session, clock, 2)

    # The visit yesterday took 1100 s: 1115 s a visit with the turnaround.
    assert [t.estimated_wait_s_at_issue for t in tickets] == [2400, 3515]
