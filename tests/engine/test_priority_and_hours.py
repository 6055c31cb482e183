"""The hall settings an admin sets, proven on the engine: priority policies (arrivals -> call
order), opening hours and closed dates on a moved clock, and the business day closing by itself."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from queue_engine import (
    VisitRecord,
    call_next,
    close_business_day,
    finish_visit,
    issue_ticket,
    open_counter,
    start_service,
)
from queue_engine.core.errors import CounterInUse, HallClosed, NoTicketWaiting
from queue_engine.core.kinds import CounterState
from queue_engine.core.models import Counter, CounterSession, Hall, Ticket, TicketEvent
from queue_engine.hall.admin import save_hall
from queue_engine.hall.calendar import hall_settings
from queue_engine.queue.day import close_day_if_due, last_closable_day
from queue_engine.queue.ordering import tickets_ahead

from .helpers import ticket_row

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hhmm: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    """A moment of January 2026 on the hall's wall clock (5 January is a Monday)."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 1, day, hours, minutes, tzinfo=tz)


def hall_values(**changes: object) -> dict[str, object]:
    """The hall settings as the admin form or the configuration file gives them."""
    values: dict[str, object] = {
        "name": {"zh": "政务服务大厅", "en": "Service Hall"},
        "timezone": None,
        "languages": None,
        "opening_hours": {},
        "closed_dates": [],
        "priority_policy": "strict",
        "priority_every_n": 3,
        "kiosk_ticket_seconds": 8,
        "day_close_delay_min": 60,
    }
    values.update(changes)
    return values


# -- priority policies ------------------------------------------------------------------------


def _drain(session, clock, counter_id: int) -> list[str]:
    """Call until nobody waits, serving each visitor at once; the numbers in call order."""
    called = []
    while True:
        clock.advance(seconds=30)
        try:
            ticket = call_next(session, clock, counter_id)
        except NoTicketWaiting:
            session.rollback()
            return called
        session.commit()
        finish_visit(session, clock, ticket.token, VisitRecord("resolved"))
        session.commit()
        called.append(ticket.number)


# Arrivals in order, "n" a normal ticket and "p" a priority one (elderly, disabled, ...), all
# for service A: the k-th arrival is A00k.  Expected: the numbers in the order they are called.
ARRIVALS = "n n n n n p p n"
POLICIES = [
    ("strict", 3, ARRIVALS, "A001 A002 A003 A004 A005 A006 A007 A008"),
    ("priority_first", 3, ARRIVALS, "A006 A007 A001 A002 A003 A004 A005 A008"),
    ("every_n", 1, ARRIVALS, "A001 A006 A002 A007 A003 A004 A005 A008"),
    ("every_n", 2, ARRIVALS, "A001 A002 A006 A003 A004 A007 A005 A008"),
    ("every_n", 3, ARRIVALS, "A001 A002 A003 A006 A004 A005 A007 A008"),
    ("every_n", 5, ARRIVALS, "A001 A002 A003 A004 A005 A006 A007 A008"),
    # Nobody with priority: every policy is first come, first served.
    ("priority_first", 3, "n n n", "A001 A002 A003"),
    ("every_n", 1, "n n n", "A001 A002 A003"),
    # Only priority tickets: called in their own order.
    ("priority_first", 3, "p p p", "A001 A002 A003"),
    ("every_n", 2, "p p n p", "A001 A002 A003 A004"),
]


@pytest.mark.parametrize(
    ("policy", "every_n", "arrivals", "expected"),
    POLICIES,
    ids=[f"{p}-{n}-{a.replace(' ', '')}" for p, n, a, _ in POLICIES],
)
def test_arrivals_to_call_order(
    session, clock, make_service, make_counter, policy, every_n, arrivals, expected
):
    save_hall(session, clock, None, hall_values(priority_policy=policy, priority_every_n=every_n))
    session.commit()
    counter = make_counter("1", [make_service("A")])
    for kind in arrivals.split():
        clock.advance(seconds=10)
        issue_ticket(session, clock, "A", priority=kind == "p")
        session.commit()
    assert _drain(session, clock, counter.id) == expected.split()


@pytest.mark.parametrize(
    ("policy", "every_n", "arrivals", "expected"),
    POLICIES,
    ids=[f"{p}-{n}-{a.replace(' ', '')}" for p, n, a, _ in POLICIES],
)
def test_every_visitors_place_is_their_turn_in_the_call_order(
    session, clock, make_service, make_counter, policy, every_n, arrivals, expected
):
    """The place a phone shows (counted, not read from the whole queue) is the call order's."""
    save_hall(session, clock, None, hall_values(priority_policy=policy, priority_every_n=every_n))
    session.commit()
    make_counter("1", [make_service("A")])
    tickets = []
    for kind in arrivals.split():
        clock.advance(seconds=10)
        tickets.append(issue_ticket(session, clock, "A", priority=kind == "p"))
        session.commit()
    places = {t.number: tickets_ahead(session, t) for t in tickets}
    assert sorted(places, key=places.__getitem__) == expected.split()
    assert sorted(places.values()) == list(range(len(tickets)))


def test_priority_first_never_takes_back_a_call(session, clock, make_service, make_counter, configure_hall):
    """A priority visitor who arrives goes before those waiting, not before the one already called."""
    configure_hall(priority_policy="priority_first")
    counter = make_counter("1", [make_service("A")])
    first, second = issue_ticket(session, clock, "A"), issue_ticket(session, clock, "A")
    session.commit()
    called = call_next(session, clock, counter.id)
    session.commit()
    clock.advance(minutes=1)
    late = issue_ticket(session, clock, "A", priority=True)
    session.commit()
    finish_visit(session, clock, called.token, VisitRecord("resolved"))
    session.commit()
    assert called.id == first.id
    assert _drain(session, clock, counter.id) == [late.number, second.number]


def test_a_changed_policy_applies_to_the_next_call(session, clock, make_service, make_counter):
    counter = make_counter("1", [make_service("A")])
    for kind in "n n p".split():
        issue_ticket(session, clock, "A", priority=kind == "p")
    session.commit()
    save_hall(session, clock, None, hall_values(priority_policy="priority_first"))
    session.commit()
    assert _drain(session, clock, counter.id) == ["A003", "A001", "A002"]


# -- opening hours and closed dates, on a moved clock -----------------------------------------

HOURS = {
    **{str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)},
    "5": [["09:00", "12:00"]],  # Saturday morning; Sunday missing: closed
}


def _open_at(session, clock, moment: datetime) -> bool:
    clock.set(moment)
    try:
        issue_ticket(session, clock, "A")
    except HallClosed:
        session.rollback()
        return False
    session.commit()
    return True


def test_a_day_walked_through_every_quarter_hour(session, clock, make_service):
    save_hall(session, clock, None, hall_values(opening_hours=HOURS))
    session.commit()
    make_service("A")
    opened = []
    moment = local(5, "07:00")
    while moment < local(5, "19:00"):
        if _open_at(session, clock, moment):
            opened.append(moment.strftime("%H:%M"))
        moment += timedelta(minutes=15)
    morning = [f"{h:02d}:{m:02d}" for h in range(8, 12) for m in (0, 15, 30, 45) if (h, m) >= (8, 30)]
    afternoon = [
        f"{h:02d}:{m:02d}" for h in range(13, 18) for m in (0, 15, 30, 45) if (13, 30) <= (h, m) < (17, 30)
    ]
    assert opened == morning + afternoon


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(9, "17:29"), True),  # Friday
        (local(10, "09:00"), True),  # Saturday morning
        (local(10, "12:00"), False),  # Saturday noon: the interval's end is closed
        (local(11, "10:00"), False),  # Sunday: not in the table
        (local(12, "10:00"), True),  # Monday again
        (local(6, "10:00"), False),  # Tuesday 6 January: a closed date
        (local(1, "10:00"), False),  # New Year's Day, a Thursday: a closed date
    ],
    ids=lambda v: v.strftime("%a-%d-%H%M") if isinstance(v, datetime) else str(v),
)
def test_weekdays_and_closed_dates(session, clock, make_service, moment, expected):
    closed = ["2026-01-01", "2026-01-06"]
    save_hall(session, clock, None, hall_values(opening_hours=HOURS, closed_dates=closed))
    session.commit()
    make_service("A")
    assert _open_at(session, clock, moment) is expected


def test_the_hours_follow_the_clocks_timezone(session, clock, make_service):
    """The same instant is 09:00 in Shanghai (open) and 01:00 in London (closed)."""
    save_hall(session, clock, None, hall_values(opening_hours=HOURS))
    session.commit()
    make_service("A")
    instant = local(5, "09:00")
    assert _open_at(session, clock, instant)
    clock.tz = ZoneInfo("Europe/London")  # what the web layer does when the hall's timezone is set
    assert not _open_at(session, clock, instant)
    assert _open_at(session, clock, local(5, "09:00", ZoneInfo("Europe/London")))


def test_a_refused_ticket_uses_no_number(session, clock, make_service):
    save_hall(session, clock, None, hall_values(opening_hours=HOURS))
    session.commit()
    make_service("A")
    assert not _open_at(session, clock, local(5, "12:30"))
    clock.set(local(5, "13:30"))
    assert issue_ticket(session, clock, "A").number == "A001"


# -- the business day closes by itself -------------------------------------------------------

WEEKDAY_HOURS = {str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)}


@pytest.mark.parametrize(
    ("hours", "closed", "delay", "moment", "expected"),
    [
        # Monday 5 January, closing time 17:30, closed one hour later
        (WEEKDAY_HOURS, [], 60, local(5, "09:00"), date(2026, 1, 4)),
        (WEEKDAY_HOURS, [], 60, local(5, "18:29"), date(2026, 1, 4)),
        (WEEKDAY_HOURS, [], 60, local(5, "18:30"), date(2026, 1, 5)),
        (WEEKDAY_HOURS, [], 0, local(5, "17:30"), date(2026, 1, 5)),
        (WEEKDAY_HOURS, [], 0, local(5, "12:30"), date(2026, 1, 4)),  # lunch is not the close
        # a day the hall does not open closes at once
        (WEEKDAY_HOURS, [], 60, local(10, "09:00"), date(2026, 1, 10)),  # Saturday
        (WEEKDAY_HOURS, ["2026-01-06"], 60, local(6, "10:00"), date(2026, 1, 6)),
        # no opening hours: always open, the day closes at midnight
        ({}, [], 60, local(5, "23:59"), date(2026, 1, 4)),
        ({}, [], 60, local(6, "00:00"), date(2026, 1, 5)),
        # a delay past midnight: the next day closes the day before as any day does
        (WEEKDAY_HOURS, [], 420, local(6, "00:30"), date(2026, 1, 5)),
    ],
)
def test_the_last_day_that_may_be_closed(clock, hours, closed, delay, moment, expected):
    hall = Hall(opening_hours=hours, closed_dates=closed, day_close_delay_min=delay)
    clock.set(moment)
    assert last_closable_day(hall, clock) == expected


def _monday_with_everything_open(session, clock, make_service, make_counter, make_user):
    """Monday: tickets waiting, called and being served, one done, at counters of two clerks."""
    save_hall(session, clock, None, hall_values(opening_hours=WEEKDAY_HOURS, day_close_delay_min=60))
    session.commit()
    a = make_service("A", served=False)
    one, two, three = make_counter("1", [a]), make_counter("2", [a]), make_counter("3", [a])
    clerk1, clerk2 = make_user("clerk1"), make_user("clerk2")
    clock.set(local(5, "16:00"))
    tickets = {name: issue_ticket(session, clock, "A") for name in ("done", "serving", "called", "waiting")}
    session.commit()
    done = call_next(session, clock, three.id, clerk2.id)
    finish_visit(session, clock, done.token, VisitRecord("resolved"), staff_id=clerk2.id)
    serving = call_next(session, clock, one.id, clerk1.id)
    start_service(session, clock, serving.token, staff_id=clerk1.id)
    call_next(session, clock, two.id, clerk2.id)
    session.commit()
    return tickets, (one, two, three), (clerk1, clerk2)


def test_after_closing_time_what_is_open_expires_and_counters_close(
    session, clock, make_service, make_counter, make_user
):
    tickets, counters, (clerk1, clerk2) = _monday_with_everything_open(
        session, clock, make_service, make_counter, make_user
    )
    clock.set(local(5, "18:29"))  # closing time 17:30 + 60 min not reached yet
    assert close_day_if_due(session, clock) == (date(2026, 1, 4), 0)
    session.commit()
    assert ticket_row(session, tickets["waiting"].id)["status"] == "waiting"

    clock.set(local(5, "18:30"))
    assert close_day_if_due(session, clock) == (date(2026, 1, 5), 3)
    session.commit()
    statuses = {name: ticket_row(session, t.id)["status"] for name, t in tickets.items()}
    assert statuses == {"done": "done", "serving": "expired", "called": "expired", "waiting": "expired"}
    states = session.execute(select(Counter.state, Counter.staff_id).order_by(Counter.id)).all()
    assert states == [(CounterState.CLOSED, None)] * 3
    open_sessions = session.scalar(
        select(func.count()).select_from(CounterSession).where(CounterSession.closed_at.is_(None))
    )
    assert open_sessions == 0
    # Closing again finds nothing to do and writes nothing.
    events = session.scalar(select(func.count()).select_from(TicketEvent))
    assert close_day_if_due(session, clock) == (date(2026, 1, 5), 0)
    session.commit()
    assert session.scalar(select(func.count()).select_from(TicketEvent)) == events


def test_a_counter_left_open_no_longer_blocks_the_next_days_clerk(
    session, clock, make_service, make_counter, make_user
):
    save_hall(session, clock, None, hall_values(opening_hours=WEEKDAY_HOURS))
    session.commit()
    counter = make_counter("1", [make_service("A")])
    clerk1, clerk2 = make_user("clerk1"), make_user("clerk2")
    clock.set(local(5, "09:00"))
    open_counter(session, clock, counter.id, clerk1.id)
    session.commit()

    clock.set(local(6, "08:20"))  # Tuesday: clerk1 went home without closing
    with pytest.raises(CounterInUse):
        open_counter(session, clock, counter.id, clerk2.id)
    session.rollback()
    close_business_day(session, clock)  # what the day closer (or `flask close-day`) does
    session.commit()
    assert open_counter(session, clock, counter.id, clerk2.id).staff_id == clerk2.id
    session.commit()


def test_closing_yesterday_leaves_a_counter_opened_today(
    session, clock, make_service, make_counter, make_user
):
    counter = make_counter("1", [make_service("A")])
    clerk = make_user("clerk1")
    clock.set(local(6, "08:00"))
    open_counter(session, clock, counter.id, clerk.id)
    session.commit()
    close_business_day(session, clock)  # closes Monday 5 January
    session.commit()
    assert session.get(Counter, counter.id).state == CounterState.OPEN


def test_a_counter_holding_todays_ticket_is_left_open(session, clock, make_service, make_counter, make_user):
    """Opened yesterday and never closed, but serving today's visitor: not closed under the clerk."""
    counter = make_counter("1", [make_service("A")])
    clerk = make_user("clerk1")
    clock.set(local(5, "16:00"))
    open_counter(session, clock, counter.id, clerk.id)
    session.commit()
    clock.set(local(6, "08:40"))
    issue_ticket(session, clock, "A")
    call_next(session, clock, counter.id, clerk.id)
    session.commit()
    close_business_day(session, clock)
    session.commit()
    assert session.get(Counter, counter.id).state == CounterState.OPEN


def test_several_processes_closing_at_once_expire_each_ticket_once(
    session, session_factory, clock, make_service, make_counter, make_user
):
    tickets, _counters, _clerks = _monday_with_everything_open(
        session, clock, make_service, make_counter, make_user
    )
    for _ in range(5):
        issue_ticket(session, clock, "A")
    session.commit()
    clock.set(local(5, "19:00"))
    barrier = threading.Barrier(4)
    results: list[int] = []
    errors: list[BaseException] = []

    def closer() -> None:
        try:
            with session_factory() as own:
                barrier.wait(timeout=30)
                results.append(close_day_if_due(own, clock)[1])
                own.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=closer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(results) == 8  # serving, called, waiting and the five issued after
    expired_events = session.scalar(
        select(func.count()).select_from(TicketEvent).where(TicketEvent.type == "expired")
    )
    assert expired_events == 8
    statuses = session.scalars(select(Ticket.status).where(Ticket.status != "done")).all()
    assert set(statuses) == {"expired"}
    assert tickets["done"].id


def test_the_day_closer_uses_the_saved_delay(session, clock, make_service):
    save_hall(session, clock, None, hall_values(opening_hours=WEEKDAY_HOURS, day_close_delay_min=0))
    session.commit()
    assert hall_settings(session).day_close_delay_min == 0
    make_service("A")
    clock.set(local(5, "17:00"))
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    clock.set(local(5, "17:30"))
    assert close_day_if_due(session, clock) == (date(2026, 1, 5), 1)
    session.commit()
    assert ticket_row(session, ticket.id)["status"] == "expired"
    assert clock.now() == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
