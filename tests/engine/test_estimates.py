"""Wait estimates against queue_engine/estimates.py, worked out here by hand.

The old estimator (``ServiceLoad``, kept for bench/estimates.py): for a ticket with ``ahead``
waiting tickets of its service before it, ``c`` open (not paused) counters serving the service
(at least 1), ``idle`` of them holding no ticket, ``m`` the mean call-to-finish time of the
service's last 20 finished tickets of the past 7 days (300 s if none); estimate = 0 when
ahead < idle, else m * (ahead - idle + 1) / c.

What screens show (the phone, the API, the kiosk) is the forward pass (issue 17): the calls
ahead played forward over the open counters, each visit the service's capped mean of its last
40 handling times plus 15 s turnaround (315 s with no history), times the chance its visitor
has not given up by then (1 with nobody cancelled lately); a booking checked in before its slot
also waits for the walk-ins foreseen until the slot.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from queue_engine import (
    VisitRecord,
    call_next,
    close_counter,
    finish_visit,
    issue_ticket,
    mark_no_show,
    open_counter,
    pause_counter,
    resume_counter,
)
from queue_engine.core.kinds import PriorityPolicy
from queue_engine.core.models import Ticket
from queue_engine.queue.estimates import ServiceLoad, estimate_at_issue, forecast, service_loads
from queue_engine.queue.snapshots import service_list, ticket_view, waiting_positions


def by_hand(ahead: int, *, open_counters: int, idle: int, mean_s: float) -> int:
    """The documented formula, in whole seconds."""
    if ahead < idle:
        return 0
    return round(mean_s * (ahead - idle + 1) / max(open_counters, 1))


@pytest.mark.parametrize(
    ("load", "ahead", "expected"),
    [
        (ServiceLoad(waiting=3, open_counters=0, idle_counters=0, mean_handling_s=300), 0, 300),
        (ServiceLoad(waiting=3, open_counters=0, idle_counters=0, mean_handling_s=300), 2, 900),
        (ServiceLoad(waiting=5, open_counters=2, idle_counters=2, mean_handling_s=300), 1, 0),
        (ServiceLoad(waiting=5, open_counters=2, idle_counters=2, mean_handling_s=300), 2, 150),
        (ServiceLoad(waiting=5, open_counters=2, idle_counters=2, mean_handling_s=300), 4, 450),
        (ServiceLoad(waiting=4, open_counters=3, idle_counters=1, mean_handling_s=240), 0, 0),
        (ServiceLoad(waiting=4, open_counters=3, idle_counters=1, mean_handling_s=240), 1, 80),
        (ServiceLoad(waiting=4, open_counters=3, idle_counters=0, mean_handling_s=240), 0, 80),
        (ServiceLoad(waiting=4, open_counters=3, idle_counters=0, mean_handling_s=240), 5, 480),
    ],
)
def test_service_load_estimate(load: ServiceLoad, ahead: int, expected: int) -> None:
    assert load.estimate(ahead) == expected
    assert load.new_ticket_estimate == load.estimate(load.waiting)


def _issue(session, clock, code: str, n: int, **kw) -> list[Ticket]:
    tickets = []
    for _ in range(n):
        clock.advance(seconds=10)
        tickets.append(issue_ticket(session, clock, code, **kw))
    session.commit()
    return tickets


def _check_queue(session, clock, service_id: int, tickets: list[Ticket], **inputs) -> None:
    """The old estimator's inputs match the hand-worked figures; the screens show the forward pass.

    Every waiting ticket's page, the service room's list and the kiosk agree with the pass:
    one place per ticket in call order, the pass's wait, and the kiosk's figure is the
    estimate a ticket taken now would be issued with.
    """
    load = service_loads(session, clock)[service_id]
    assert (load.waiting, load.open_counters, load.idle_counters, load.mean_handling_s) == (
        len(tickets),
        inputs["open_counters"],
        inputs["idle"],
        inputs["mean_s"],
    )
    found = forecast(session, clock)
    for ahead, ticket in enumerate(tickets):
        view = ticket_view(session, clock, ticket)
        assert (view["position"], view["ahead"]) == (ahead + 1, ahead)
        assert view["estimated_wait_s"] == found[ticket.id].wait_s
    listed = waiting_positions(session, clock, service_id, found)
    assert [(p["number"], p["ahead"], p["estimated_wait_s"]) for p in listed] == [
        (t.number, i, found[t.id].wait_s) for i, t in enumerate(tickets)
    ]
    kiosk = {s["code"]: s for s in service_list(session, clock, "en")}
    code = tickets[0].service.code
    new = estimate_at_issue(session, clock, service_id, priority=False, queued_at=clock.now())
    assert (kiosk[code]["waiting"], kiosk[code]["estimated_wait_s"]) == (len(tickets), new)


def test_no_counter_open(session, clock, make_service, make_counter, make_user):
    """Nobody on duty (one counter closed, one paused): the paused one is expected back after a
    usual pause (15 minutes with none on record), then calls one visitor after the other."""
    a = make_service("A")
    make_counter("1", [a])
    paused = make_counter("2", [a])
    clerk = make_user("clerk").id
    open_counter(session, clock, paused.id, clerk)
    pause_counter(session, clock, paused.id, clerk)
    session.commit()
    tickets = _issue(session, clock, "A", 3)
    _check_queue(session, clock, a.id, tickets, open_counters=0, idle=0, mean_s=300.0)
    # Paused 30 s ago (three issues of 10 s each): back in 870 s.
    assert [ticket_view(session, clock, t)["estimated_wait_s"] for t in tickets] == [870, 1185, 1500]


def test_idle_counters_call_at_once(session, clock, make_service, make_counter):
    """Two idle counters serve A; a third, open, serves only B and does not count."""
    a, b = make_service("A"), make_service("B")
    for name, services in (("1", [a]), ("2", [a, b]), ("3", [b])):
        open_counter(session, clock, make_counter(name, services).id, None)
    session.commit()
    tickets = _issue(session, clock, "A", 5)
    _check_queue(session, clock, a.id, tickets, open_counters=2, idle=2, mean_s=300.0)
    assert [ticket_view(session, clock, t)["estimated_wait_s"] for t in tickets] == [0, 0, 315, 315, 630]


def test_busy_counters_call_when_they_finish(session, clock, make_service, make_counter):
    """Three open counters serve A; two hold visitors (called 40 s ago: 275 s left), one is idle."""
    a = make_service("A")
    counters = [make_counter(str(i), [a]) for i in (1, 2, 3)]
    for counter in counters:
        open_counter(session, clock, counter.id, None)
    session.commit()
    _issue(session, clock, "A", 2)
    for counter in counters[:2]:
        call_next(session, clock, counter.id)
    session.commit()
    tickets = _issue(session, clock, "A", 4)
    _check_queue(session, clock, a.id, tickets, open_counters=3, idle=1, mean_s=300.0)
    assert [ticket_view(session, clock, t)["estimated_wait_s"] for t in tickets] == [0, 275, 275, 315]


def _serve(session, clock, counter_id: int, code: str, minutes: float, *, no_show: bool = False) -> None:
    ticket = issue_ticket(session, clock, code)
    call_next(session, clock, counter_id)
    clock.advance(minutes=minutes)
    if no_show:
        mark_no_show(session, clock, ticket.token)
    else:
        finish_visit(session, clock, ticket.token, VisitRecord("resolved"))
    session.commit()


def test_recent_handling_times(session, clock, make_service, make_counter):
    """m is the mean call-to-finish time of A's finished tickets of the past week only."""
    a, b = make_service("A"), make_service("B")
    desk = make_counter("history", [a, b])
    monday = clock.now()
    clock.set(monday - timedelta(days=10))
    _serve(session, clock, desk.id, "A", 50)  # too old to count
    clock.set(monday - timedelta(days=2))
    _serve(session, clock, desk.id, "A", 10)  # 600 s
    clock.set(monday)
    for minutes in (2, 4, 6):  # 120, 240, 360 s
        _serve(session, clock, desk.id, "A", minutes)
    _serve(session, clock, desk.id, "B", 50)  # another service
    _serve(session, clock, desk.id, "A", 50, no_show=True)  # not a finished visit
    close_counter(session, clock, desk.id, None)
    open_counter(session, clock, make_counter("1", [a]).id, None)
    session.commit()

    tickets = _issue(session, clock, "A", 3)
    mean = (600 + 120 + 240 + 360) / 4
    _check_queue(session, clock, a.id, tickets, open_counters=1, idle=1, mean_s=mean)
    assert [ticket_view(session, clock, t)["estimated_wait_s"] for t in tickets] == [0, 345, 690]


def test_the_past_week_is_today_and_the_six_days_before(session, clock, make_service, make_counter):
    a = make_service("A")
    desk = make_counter("history", [a])
    monday = clock.now()
    clock.set(monday - timedelta(days=7))
    _serve(session, clock, desk.id, "A", 40)  # a week ago today: outside the past 7 days
    clock.set(monday - timedelta(days=6))
    _serve(session, clock, desk.id, "A", 2)  # 120 s, the oldest day that counts
    clock.set(monday)
    close_counter(session, clock, desk.id, None)
    session.commit()
    tickets = _issue(session, clock, "A", 1)
    _check_queue(session, clock, a.id, tickets, open_counters=0, idle=0, mean_s=120.0)


def test_only_the_last_twenty_visits_count(session, clock, make_service, make_counter):
    """The old estimator's mean takes the last 20 visits; the forward pass's mean caps the hour-long
    one at four times the median (90 s): (20 x 90 + 360) / 21 + 15 s of turnaround = 118 s."""
    a = make_service("A")
    desk = make_counter("1", [a])
    _serve(session, clock, desk.id, "A", 60)  # the 21st most recent: left out
    for _ in range(20):
        _serve(session, clock, desk.id, "A", 1.5)
    close_counter(session, clock, desk.id, None)
    session.commit()
    tickets = _issue(session, clock, "A", 2)
    _check_queue(session, clock, a.id, tickets, open_counters=0, idle=0, mean_s=90.0)
    assert [ticket_view(session, clock, t)["estimated_wait_s"] for t in tickets] == [0, 118]


def test_position_under_priority_first(session, clock, make_service, make_counter, configure_hall):
    """Priority tickets stand before every normal ticket; each kind in issue order."""
    configure_hall(priority_policy=PriorityPolicy.PRIORITY_FIRST)
    a = make_service("A")
    kinds = "n p n p n".split()
    tickets = [_issue(session, clock, "A", 1, priority=k == "p")[0] for k in kinds]
    in_call_order = [tickets[1], tickets[3], tickets[0], tickets[2], tickets[4]]
    _check_queue(session, clock, a.id, in_call_order, open_counters=0, idle=0, mean_s=300.0)


def test_a_ticket_that_is_not_waiting_has_no_position(session, clock, make_service, make_counter):
    a = make_service("A")
    counter = make_counter("1", [a])
    first, second = _issue(session, clock, "A", 2)
    call_next(session, clock, counter.id)
    session.commit()
    called = ticket_view(session, clock, first)
    assert (called["position"], called["estimated_wait_s"], called["counter"]) == (
        None,
        None,
        {"id": counter.id, "name": "1"},
    )
    # The one who was second is now first, and waits for the visit under way (315 s, just begun).
    assert ticket_view(session, clock, second)["position"] == 1
    assert ticket_view(session, clock, second)["estimated_wait_s"] == 315


# -- The forward pass (issue 17): the calls ahead across shared counters, worked out by hand ----
# With no history a visit counts DEFAULT_HANDLING_S + TURNAROUND_S = 315 s.


def test_forward_counts_other_services_on_a_shared_counter(session, clock, make_service, make_counter):
    """Counter 1 serves A and B: two B tickets issued first are called before the A ticket."""
    from queue_engine.queue.estimates import forecast

    a, b = make_service("A"), make_service("B")
    open_counter(session, clock, make_counter("1", [a, b]).id, None)
    session.commit()
    first_b, second_b = _issue(session, clock, "B", 2)
    (ticket_a,) = _issue(session, clock, "A", 1)
    found = forecast(session, clock)
    assert [(found[t.id].wait_s, found[t.id].ahead) for t in (first_b, second_b, ticket_a)] == [
        (0, 0),
        (315, 1),
        (630, 2),
    ]
    # The visitor of A was told 10.5 minutes, not "no wait" (the old estimate, own service only).
    assert ticket_a.estimated_wait_s_at_issue == 630


def test_forward_expects_a_paused_counter_back_after_a_usual_pause(
    session, clock, make_service, make_counter, make_user
):
    """Counter 2 has just paused; with no pause on record it is expected back in 15 minutes."""
    from queue_engine.queue.estimates import forecast

    a = make_service("A")
    open_counter(session, clock, make_counter("1", [a]).id, None)
    paused = make_counter("2", [a])
    clerk = make_user("clerk").id
    open_counter(session, clock, paused.id, clerk)
    pause_counter(session, clock, paused.id, clerk)
    session.commit()
    tickets = _issue(session, clock, "A", 4)
    found = forecast(session, clock)
    # Counter 1 calls at 0, 315 and 630 s; counter 2, paused 40 s ago (the four issues took 10 s
    # each), is back 860 s from now, before counter 1's 945.
    assert [found[t.id].wait_s for t in tickets] == [0, 315, 630, 860]


def test_forward_learns_the_halls_usual_pause(session, clock, make_service, make_counter, make_user):
    """This week's pauses lasted 10 minutes: a counter paused 4.5 minutes ago is back in 5.5."""
    from queue_engine.queue.estimates import forecast

    a = make_service("A")
    open_counter(session, clock, make_counter("1", [a]).id, None)
    second = make_counter("2", [a])
    clerk = make_user("clerk").id
    open_counter(session, clock, second.id, clerk)
    pause_counter(session, clock, second.id, clerk)
    clock.advance(minutes=10)
    resume_counter(session, clock, second.id, clerk)
    close_counter(session, clock, second.id, clerk, "")
    open_counter(session, clock, second.id, clerk)  # a new stretch of duty, its pause under way
    pause_counter(session, clock, second.id, clerk)
    clock.advance(minutes=4)
    session.commit()
    tickets = _issue(session, clock, "A", 3)
    found = forecast(session, clock)
    # Counter 1: 0 and 315 s; counter 2, back 330 s from now (600 - 240 - the 30 s the issues
    # took), takes the third before counter 1's 630.
    assert [found[t.id].wait_s for t in tickets] == [0, 315, 330]


def test_forward_puts_priority_first(session, clock, make_service, make_counter, configure_hall):
    """Under priority_first a later priority ticket is called first, and the others wait one visit more."""
    from queue_engine.queue.estimates import forecast

    configure_hall(priority_policy=PriorityPolicy.PRIORITY_FIRST)
    a = make_service("A")
    open_counter(session, clock, make_counter("1", [a]).id, None)
    session.commit()
    plain = _issue(session, clock, "A", 2)
    (urgent,) = _issue(session, clock, "A", 1, priority=True)
    found = forecast(session, clock)
    assert [found[t.id].wait_s for t in (urgent, *plain)] == [0, 315, 630]


def test_screens_count_other_services_on_a_shared_counter(session, clock, make_service, make_counter):
    """The phone, the service room and the kiosk count the B visitors a shared counter calls first.

    Before issue 17 the A visitor read "you are next", with no wait, behind two B visitors.
    """
    a, b = make_service("A"), make_service("B")
    open_counter(session, clock, make_counter("1", [a, b]).id, None)
    session.commit()
    _issue(session, clock, "B", 2)
    (ticket_a,) = _issue(session, clock, "A", 1)
    view = ticket_view(session, clock, ticket_a)
    assert (view["position"], view["ahead"], view["estimated_wait_s"]) == (3, 2, 630)
    listed = waiting_positions(session, clock, a.id, forecast(session, clock))
    assert [(p["number"], p["ahead"], p["estimated_wait_s"]) for p in listed] == [(ticket_a.number, 2, 630)]
    promised = {s["code"]: s["estimated_wait_s"] for s in service_list(session, clock, "en")}["A"]
    assert promised == 945  # the two B visits and the first A visit ahead
    (next_a,) = _issue(session, clock, "A", 1)
    assert next_a.estimated_wait_s_at_issue == promised  # the kiosk promised what the ticket keeps


def test_the_kiosk_promises_each_service_what_its_next_ticket_keeps(
    session, clock, make_service, make_counter
):
    """Linked services read the queue once for the kiosk's list; each figure is still its own pass."""
    a, b, c = make_service("A"), make_service("B"), make_service("C")
    for name, services in (("1", [a, b]), ("2", [b]), ("3", [c])):
        open_counter(session, clock, make_counter(name, services).id, None)
    session.commit()
    _issue(session, clock, "B", 3)
    _issue(session, clock, "A", 2)
    _issue(session, clock, "C", 1)
    promised = {s["code"]: s["estimated_wait_s"] for s in service_list(session, clock, "en")}
    now = clock.now()
    alone = {
        s.code: estimate_at_issue(session, clock, s.id, priority=False, queued_at=now) for s in (a, b, c)
    }
    assert promised == alone
    # By hand (315 s a visit): counters 1 and 2 call B1 and B2 at once; at 315 s counter 1 takes
    # B3 and counter 2 (B only) the new B; counter 1 then A1 at 630, A2 at 945, the new A at
    # 1260; counter 3 calls C1 at once and the new C at 315 s.
    assert promised == {"A": 1260, "B": 315, "C": 315}
    for code in "ABC":
        (ticket,) = _issue(session, clock, code, 1)
        assert ticket.estimated_wait_s_at_issue is not None


def test_forward_foresees_the_walk_ins_before_a_booked_tickets_slot(
    session, clock, make_service, make_counter
):
    """A booking checked in 20 minutes early queues from its slot: the walk-ins coming until then go first.

    Six walk-ins came in the last half hour (one per 300 s) and wait; the one counter calls them
    at 0, 315, ... 1575 s.  At that rate four more come before the slot (at 150, 450, 750 and
    1050 s), so the booked visitor is called after ten visits, at 3150 s, not after six (1890 s,
    before issue 17's booked fix: 2-6 minutes too short in the simulated halls).
    """
    from queue_engine.booking.bookings import book, check_in
    from queue_engine.booking.models import BookingSettings

    a = make_service("A")
    session.add(
        BookingSettings(service_id=a.id, bookable=True, slot_minutes=20, capacity=2, cutoff_minutes=0)
    )
    open_counter(session, clock, make_counter("1", [a]).id, None)
    now = clock.now()
    walk_ins = []
    for n in range(6):
        clock.set(now - timedelta(seconds=300 * (5 - n)))
        walk_ins.append(issue_ticket(session, clock, "A"))
    booking = book(session, clock, "A", now + timedelta(minutes=20), name="张三", phone="13812345678")
    booked = check_in(session, clock, booking)
    session.commit()
    assert booked.estimated_wait_s_at_issue == 3150
    found = forecast(session, clock)
    assert [found[t.id].wait_s for t in walk_ins] == [0, 315, 630, 945, 1260, 1575]
    assert (found[booked.id].wait_s, found[booked.id].ahead) == (3150, 6)  # the coming are no one's place yet


@pytest.mark.parametrize(("calls", "expected"), [(20, [0, 270, 540]), (16, [0, 315, 630])])
def test_forward_counts_a_no_show_until_it_is_marked(
    session, clock, make_service, make_counter, calls: int, expected: list[int]
):
    """Last week one call of A in four was a no-show, marked 2 minutes after the call: a call ahead
    takes 270 s (3/4 of a 300 s visit, 1/4 of 120 s, then 15 s of turnaround), not a whole visit's
    315 s; from fewer than 20 calls the share is not weighed (a visit ahead counts whole)."""
    a = make_service("A")
    desk = make_counter("1", [a]).id
    today = clock.now()
    clock.set(today - timedelta(days=1))
    open_counter(session, clock, desk, None)
    for n in range(calls):
        missed = n % 4 == 0
        _serve(session, clock, desk, "A", 2 if missed else 5, no_show=missed)
    close_counter(session, clock, desk, None, "")
    clock.set(today)
    open_counter(session, clock, desk, None)
    session.commit()
    tickets = _issue(session, clock, "A", 3)
    found = forecast(session, clock)
    assert [found[t.id].wait_s for t in tickets] == expected
    assert tickets[-1].estimated_wait_s_at_issue == expected[-1]


def _half_gave_up(
    session, clock, make_service, make_counter, *, each: int = 10, still_waiting: int = 0
) -> list[Ticket]:
    """Counter 1 (A) calls two priority visitors at once and serves each in 300 s, while of the
    2 × ``each`` visitors issued first ``each`` give up after 600 s and the other ``each`` are
    called from 1200 s on, one after the other, each served in 300 s; ``still_waiting`` more,
    issued with them, are still waiting (returned)."""
    from queue_engine import cancel

    desk = make_counter("1", [make_service("A")]).id
    open_counter(session, clock, desk, None)
    late = [issue_ticket(session, clock, "A") for _ in range(each)]
    leave = [issue_ticket(session, clock, "A") for _ in range(each)]
    still = [issue_ticket(session, clock, "A") for _ in range(still_waiting)]
    for _ in range(2):  # a priority visitor called at once, served in 300 s
        first = issue_ticket(session, clock, "A", priority=True)
        call_next(session, clock, desk)
        clock.advance(seconds=300)
        finish_visit(session, clock, first.token, VisitRecord("resolved"))
    for ticket in leave:
        cancel(session, clock, ticket.token)  # after 600 s
    clock.advance(seconds=600)
    for ticket in late:  # from 1200 s on
        call_next(session, clock, desk)
        clock.advance(seconds=300)
        finish_visit(session, clock, ticket.token, VisitRecord("resolved"))
    session.commit()
    return still


def test_forward_expects_some_visitors_ahead_to_give_up(
    session, clock, make_service, make_counter, configure_hall
):
    """Today one visitor in two still waiting after 10 minutes gave up: a visit ahead that late counts half.

    Of the 20 visitors watched at 600 s (A's finished tickets, each at least 300 s, when the
    first of them finished: the span read), 10 cancelled then, 10 were called after 1200 s or
    more (a Kaplan-Meier share still waiting of 1/2 from 600 s on).  Of the three waiting, the
    third is called 630 s from now, having waited 650 s by then: its visit counts 157.5 s, so the
    new ticket is called at 788 s, not 945 s (each visit 300 s + 15 s of turnaround).
    """
    configure_hall(priority_policy=PriorityPolicy.PRIORITY_FIRST)
    _half_gave_up(session, clock, make_service, make_counter)
    tickets = _issue(session, clock, "A", 4)
    found = forecast(session, clock)
    assert [(found[t.id].wait_s, found[t.id].ahead) for t in tickets] == [
        (0, 0),
        (315, 1),
        (630, 2),
        (788, 3),
    ]
    assert tickets[-1].estimated_wait_s_at_issue == 788


def test_a_few_visitors_giving_up_are_not_a_patience(
    session, clock, make_service, make_counter, configure_hall
):
    """One of two visitors watched at 600 s gave up: too few watched (under 20) to expect half of
    everyone to leave that late, so every visit ahead counts whole.

    At the longest waits of a long queue only a few visitors are watched: one of three giving up
    took a third off every visit ahead that late, and a queue of two hours was played half an hour
    too fast (booked tickets 68 s too short on average at load 1.3, 4 minutes on the busiest day).
    """
    configure_hall(priority_policy=PriorityPolicy.PRIORITY_FIRST)
    _half_gave_up(session, clock, make_service, make_counter, each=1)
    tickets = _issue(session, clock, "A", 4)
    found = forecast(session, clock)
    assert [found[t.id].wait_s for t in tickets] == [0, 315, 630, 945]
    assert tickets[-1].estimated_wait_s_at_issue == 945


def test_visitors_still_waiting_have_not_given_up(session, clock, make_service, make_counter, configure_hall):
    """Those waiting now count as not having given up (yet): here they halve who is expected to leave.

    As above, half of the 20 visitors who had waited 600 s then gave up; but 20 more, issued with
    them, are still waiting after 4,200 s.  Of the 40 watched at 600 s, 10 gave up: a visit ahead
    that late counts three quarters (236.25 s), not half (left out, the waiting made a long queue
    look as if it would empty by itself: estimates minutes short at load 1.3).
    """
    configure_hall(priority_policy=PriorityPolicy.PRIORITY_FIRST)
    still = _half_gave_up(session, clock, make_service, make_counter, still_waiting=20)
    tickets = still + _issue(session, clock, "A", 4)
    found = forecast(session, clock)
    # Those who waited 4,200 s are past every wait anyone gave up at: their visits count whole.
    assert [found[t.id].wait_s for t in still] == [315 * n for n in range(20)]
    assert [found[t.id].wait_s for t in tickets[20:]] == [6300, 6536, 6772, 7009]
    assert tickets[-1].estimated_wait_s_at_issue == 7009


def test_forward_expects_visitors_transferred_back_at_their_place(session, clock, make_service, make_counter):
    """Last week one A visitor in two was sent on to B: each A visit ahead brings half a B visit.

    Yesterday counter 1 (A and B) served an A visitor in 300 s and transferred them to B, served
    there in 600 s, then another A visitor in 300 s: A visits take 315 s, B visits 615 s.  Today
    a transferred visitor keeps their queue time, so comes back before everyone queued after
    them: the second A visitor is called after the first's visit and the half B visit it brings
    (622.5 s), the B visitor behind both after the two A visits and the two halves, at 1245 s,
    not 630 s.
    """
    from queue_engine import transfer

    a, b = make_service("A"), make_service("B")
    desk = make_counter("1", [a, b]).id
    today = clock.now()
    clock.set(today - timedelta(days=1))
    open_counter(session, clock, desk, None)
    sent, stays = issue_ticket(session, clock, "A"), issue_ticket(session, clock, "A")
    for seconds, token, code in ((300, sent.token, "B"), (600, sent.token, None), (300, stays.token, None)):
        call_next(session, clock, desk)
        clock.advance(seconds=seconds)
        if code:
            transfer(session, clock, token, code)
        else:
            finish_visit(session, clock, token, VisitRecord("resolved"))
    close_counter(session, clock, desk, None, "")
    clock.set(today)
    open_counter(session, clock, desk, None)
    session.commit()
    ahead = _issue(session, clock, "A", 2)
    (ticket_b,) = _issue(session, clock, "B", 1)
    found = forecast(session, clock)
    assert [found[t.id].wait_s for t in ahead] == [0, 622]
    assert (found[ticket_b.id].wait_s, found[ticket_b.id].ahead) == (1245, 2)
    assert ticket_b.estimated_wait_s_at_issue == 1245


@pytest.mark.parametrize(("on_duty_yesterday", "expected"), [(True, 2175), (False, 1545)])
def test_a_booking_checked_in_before_the_hall_opens_waits_from_the_opening(
    session, clock, make_service, make_counter, configure_hall, on_duty_yesterday: bool, expected: int
):
    """The hall opens at 08:00 and no counter is open yet: the calls start at the opening.

    Counters 1 and 2 serve A (so does "any", every service's closed counter here).  At 07:50
    ten visitors booked for 08:00 have checked in; the eleventh is called after five rounds of
    the two counters that were on duty yesterday, from 08:00: 600 s + 5 × 315 s = 2175 s, not
    0 s for the first of them (nobody open now) nor 3150 s (one counter calling from now).  In
    a hall with no day on duty on record, every active counter is expected to open (three: 600 s
    + 3 × 315 s).
    """
    from queue_engine.booking.bookings import book, check_in
    from queue_engine.booking.models import BookingSettings

    configure_hall(opening_hours={str(day): [["08:00", "17:30"]] for day in range(7)})
    a = make_service("A")
    session.add(
        BookingSettings(service_id=a.id, bookable=True, slot_minutes=15, capacity=11, cutoff_minutes=0)
    )
    desks = [make_counter(name, [a]).id for name in ("1", "2")]
    nine = clock.now()  # Monday 09:00
    if on_duty_yesterday:
        clock.set(nine - timedelta(days=1))
        for desk in desks:
            open_counter(session, clock, desk, None)
        clock.advance(hours=8)
        for desk in desks:
            close_counter(session, clock, desk, None, "")
    clock.set(nine - timedelta(hours=2))
    bookings = [
        book(session, clock, "A", nine - timedelta(hours=1), name="张三", phone=f"138{n:08d}")
        for n in range(11)
    ]
    session.commit()
    clock.set(nine - timedelta(minutes=80))  # 07:40: check-in opens
    booked = []
    for booking in bookings[:10]:
        booked.append(check_in(session, clock, booking))
        clock.advance(seconds=30)
    clock.set(nine - timedelta(minutes=70))  # 07:50
    last = check_in(session, clock, bookings[10])
    session.commit()
    assert last.estimated_wait_s_at_issue == expected
    assert booked[0].estimated_wait_s_at_issue == 1200  # at 07:40, the first: called at the opening
    found = forecast(session, clock)
    counters = 2 if on_duty_yesterday else 3
    assert [found[t.id].wait_s for t in booked] == [600 + 315 * (n // counters) for n in range(10)]
    assert (found[last.id].wait_s, found[last.id].ahead) == (expected, 10)
