"""The queue's invariants under real threads on the real databases (DESIGN §3 and §5).

Every thread has its own session.  The clock moves one millisecond each time anyone reads it,
so every reading is distinct and readings are ordered as they were taken: an issue time or a
call time says when, inside its transaction, the engine looked at the clock.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from queue_engine import (
    Clock,
    VisitRecord,
    call_next,
    finish_visit,
    issue_ticket,
    mark_no_show,
)
from queue_engine.core.errors import CounterBusy, NoTicketWaiting
from queue_engine.core.kinds import ACTIVE_STATUSES
from queue_engine.core.models import CounterSession, Hall, Ticket, TicketEvent
from queue_engine.hall.calendar import hall_settings
from queue_engine.notify.models import OutboxMessage
from queue_engine.notify.webhooks import subscribe
from tests.conftest import MONDAY_9AM

THREAD_TIMEOUT_S = 90


@dataclass
class TickingClock(Clock):
    """A clock that moves one millisecond forward every time it is read (thread-safe)."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    current: datetime = MONDAY_9AM
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        """The next millisecond."""
        with self._lock:
            self.current += timedelta(milliseconds=1)
            return self.current


def run_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` in ``count`` threads released together; re-raise the first failure."""
    start = threading.Barrier(count)
    failures: list[BaseException] = []

    def body(i: int) -> None:
        try:
            start.wait(timeout=30)
            work(i)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failures.append(exc)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT_S)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    if failures:
        raise failures[0]


@pytest.mark.slow
def test_concurrent_issuing_gives_every_number_once_in_order(
    session: Session, session_factory: sessionmaker[Session], make_service
) -> None:
    """16 kiosks take 960 tickets of two services at once."""
    a, b = make_service("A"), make_service("B")
    session.commit()
    clock = TickingClock()
    threads, per_thread = 16, 60

    def kiosk(i: int) -> None:
        with session_factory() as s:
            for n in range(per_thread):
                issue_ticket(s, clock, "AB"[(i + n) % 2])
                s.commit()

    run_threads(threads, kiosk)

    rows = session.execute(
        select(Ticket.service_id, Ticket.sequence, Ticket.number, Ticket.issued_at, Ticket.business_date)
    ).all()
    assert len(rows) == threads * per_thread
    assert len({(r.service_id, r.number) for r in rows}) == len(rows)
    for service in (a, b):
        mine = sorted((r for r in rows if r.service_id == service.id), key=lambda r: r.sequence)
        assert [r.sequence for r in mine] == list(range(1, threads * per_thread // 2 + 1))
        assert [r.number for r in mine] == [f"{service.prefix}{n:03d}" for n in range(1, len(mine) + 1)]
        # The clock is read once the number is taken: a higher number is always issued later.
        issued = [r.issued_at for r in mine]
        assert issued == sorted(issued) and len(set(issued)) == len(issued)
        assert {r.business_date for r in mine} == {MONDAY_9AM.date()}
    issued_events = session.scalar(select(func.count()).where(TicketEvent.type == "issued"))
    assert issued_events == len(rows)
    # The hall's settings row, created by the first ticket of the day, exists once.
    assert session.scalar(select(func.count()).select_from(Hall)) == 1


@pytest.mark.slow
def test_counters_calling_at_once_drain_the_queue_first_come_first_served(
    session: Session, session_factory: sessionmaker[Session], make_service, make_counter, database_url: str
) -> None:
    """8 counters serving two services call 600 waiting visitors, each served or missed at once."""
    a, b = make_service("A", served=False), make_service("B", served=False)
    counters = [make_counter(str(i + 1), [a, b]) for i in range(8)]
    clock = TickingClock()
    hall_settings(session)
    # 600 visitors, one in three for B, who arrived over the last 600 seconds.  They are
    # written A first, then B, so that the ids do not follow the arrival order.
    arrivals = [(b if n % 3 == 0 else a, MONDAY_9AM - timedelta(seconds=600 - n)) for n in range(600)]
    sequence = Tally[int]()
    rows = []
    for service, issued_at in arrivals:
        sequence[service.id] += 1
        rows.append(
            {
                "token": f"t-{service.code}-{sequence[service.id]}",
                "service_id": service.id,
                "issued_service_id": service.id,
                "business_date": MONDAY_9AM.date(),
                "sequence": sequence[service.id],
                "number": f"{service.prefix}{sequence[service.id]:03d}",
                "status": "waiting",
                "issued_at": issued_at,
            }
        )
    rows.sort(key=lambda r: r["service_id"] != a.id)
    session.execute(insert(Ticket), rows)
    session.commit()
    tickets = session.scalars(select(Ticket)).all()
    issue_rank = {t.id: rank for rank, t in enumerate(sorted(tickets, key=lambda t: t.issued_at))}
    assert [t.id for t in sorted(tickets, key=lambda t: t.issued_at)] != sorted(issue_rank)
    counter_ids = [c.id for c in counters]
    session.rollback()  # on SQLite even a read holds the write lock (BEGIN IMMEDIATE) until it ends
    calls: dict[int, list[int]] = {}

    def counter_desk(i: int) -> None:
        counter_id = counter_ids[i]
        mine: list[int] = calls.setdefault(counter_id, [])
        with session_factory() as s:
            while True:
                try:
                    ticket = call_next(s, clock, counter_id)
                except NoTicketWaiting:
                    s.rollback()
                    return
                s.commit()
                mine.append(ticket.id)
                if len(mine) % 4 == 0:
                    mark_no_show(s, clock, ticket.token, counter_id=counter_id)
                else:
                    finish_visit(s, clock, ticket.token, VisitRecord("resolved"), counter_id=counter_id)
                s.commit()

    run_threads(len(counter_ids), counter_desk)

    called = [ticket_id for mine in calls.values() for ticket_id in mine]
    assert sorted(called) == sorted(issue_rank), "every ticket called, none twice"
    call_events = Tally(session.scalars(select(TicketEvent.ticket_id).where(TicketEvent.type == "called")))
    assert set(call_events.values()) == {1} and len(call_events) == len(tickets)
    statuses = Tally(session.scalars(select(Ticket.status)))
    assert sum(statuses.values()) == len(tickets)
    assert set(statuses) <= {"done", "no_show"}
    # Each counter took its visitors in issue order.
    for mine in calls.values():
        ranks = [issue_rank[t] for t in mine]
        assert ranks == sorted(ranks)
    # Across counters, first come first served up to the number of counters calling at once.
    by_call_time = session.scalars(select(Ticket.id).order_by(Ticket.called_at)).all()
    displacement = max(abs(call_rank - issue_rank[t]) for call_rank, t in enumerate(by_call_time))
    if database_url.startswith("sqlite"):
        assert displacement == 0, "BEGIN IMMEDIATE serialises call-next: strict order"
    else:
        assert displacement <= len(counter_ids)


@pytest.mark.slow
def test_a_counter_never_holds_two_tickets(
    session: Session, session_factory: sessionmaker[Session], make_service, make_counter, make_user
) -> None:
    """Six callers press "call next" on one counter at the same instant, round after round."""
    a = make_service("A")
    counter = make_counter("1", [a])
    clerk = make_user("clerk1").id
    clock = TickingClock()
    hall_settings(session)
    for _ in range(30):
        issue_ticket(session, clock, "A")
    session.commit()
    callers, rounds = 6, 8
    counter_id = counter.id  # threads must not touch the main session's objects
    stop = threading.Event()
    double_held: list[object] = []

    def watch() -> None:
        with session_factory() as s:
            while not stop.is_set():
                held = s.execute(
                    select(Ticket.counter_id, func.count())
                    .where(Ticket.status.in_(ACTIVE_STATUSES))
                    .group_by(Ticket.counter_id)
                    .having(func.count() > 1)
                ).all()
                s.rollback()
                double_held.extend(held)
                stop.wait(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for round_ in range(rounds):
            outcomes: list[object] = []

            def press(_i: int, outcomes: list[object] = outcomes) -> None:
                with session_factory() as s:
                    try:
                        ticket = call_next(s, clock, counter_id, clerk)
                        s.commit()
                        outcomes.append(ticket.token)
                    except CounterBusy as busy:
                        s.rollback()
                        outcomes.append(busy)

            run_threads(callers, press)
            won = [o for o in outcomes if isinstance(o, str)]
            assert len(won) == 1, f"round {round_}: {outcomes}"
            assert sum(isinstance(o, CounterBusy) for o in outcomes) == callers - 1
            session.expire_all()
            # Free the slot for the next round.
            finish_visit(session, clock, won[0], VisitRecord("resolved"), counter_id=counter.id)
            session.commit()
    finally:
        stop.set()
        watcher.join(10)

    assert double_held == []
    assert session.scalar(select(func.count()).where(TicketEvent.type == "called")) == rounds
    assert session.scalar(select(func.count()).where(Ticket.status == "waiting")) == 30 - rounds
    # The first round found the counter closed: it was opened once, by one caller.
    assert session.scalar(select(func.count()).select_from(CounterSession)) == 1


def test_the_database_refuses_a_second_active_ticket_on_a_counter(
    session: Session, clock, make_service, make_counter
) -> None:
    a = make_service("A")
    counter = make_counter("1", [a])
    first, second, third = (issue_ticket(session, clock, "A") for _ in range(3))
    session.commit()
    call_next(session, clock, counter.id)
    session.commit()

    for status in ACTIVE_STATUSES:
        with pytest.raises(IntegrityError):
            session.execute(
                update(Ticket).where(Ticket.id == second.id).values(status=status, counter_id=counter.id)
            )
            session.flush()
        session.rollback()

    # Closed tickets may name the counter as often as they like.
    session.execute(
        update(Ticket)
        .where(Ticket.id.in_([second.id, third.id]))
        .values(status="done", counter_id=counter.id)
    )
    session.commit()
    assert first.status == "called"


def test_counters_calling_at_once_tell_each_ticket_n_ahead_exactly_once(
    session: Session, session_factory: sessionmaker[Session], make_service, make_counter
) -> None:
    """Four counters call and finish 60 visitors at once, a webhook listening for ``ticket.near``.

    Two calls committed at the same instant each see the other's ticket still waiting: on
    PostgreSQL both would pick the same ticket as "3 ahead" without the one-row guard, and the one
    the two calls together moved past the threshold would never be told."""
    a = make_service("A")
    counters = [make_counter(str(i + 1), [a]).id for i in range(4)]
    clock = TickingClock()
    hall_settings(session)
    subscribe(session, clock.now(), "http://127.0.0.1:9/hook", ["ticket.near"], actor_id=None)
    session.commit()
    tickets = [issue_ticket(session, clock, "A").id for _ in range(60)]
    session.commit()

    def counter_desk(i: int) -> None:
        with session_factory() as s:
            while True:
                try:
                    ticket = call_next(s, clock, counters[i])
                except NoTicketWaiting:
                    s.rollback()
                    return
                s.commit()
                finish_visit(s, clock, ticket.token, VisitRecord("resolved"), counter_id=counters[i])
                s.commit()

    run_threads(len(counters), counter_desk)

    told = Tally(
        session.scalars(
            select(OutboxMessage.ref).where(
                OutboxMessage.event == "ticket.near", OutboxMessage.channel == "webhook"
            )
        )
    )
    assert [ref for ref, n in told.items() if n > 1] == [], "a ticket told twice"
    # The last ones reached "3 ahead" (or fewer) when they were issued; every one of them is told.
    assert sorted(told) == sorted(f"ticket:{t}" for t in tickets)
