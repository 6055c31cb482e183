"""SQLite's writers of one process queue for the write lock (queue_engine.core.db.WriterQueue).

A writer's turn ends with its transaction however it ends: committed, rolled back after a refusal,
or dropped by closing the session without either.  A turn left behind would hold every later
writer of the process for the busy timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from queue_engine import issue_ticket
from queue_engine.core.db import make_engine, writer_queue
from queue_engine.core.errors import QueueError
from queue_engine.core.models import Base, Counter, Service, Ticket
from tests.conftest import MONDAY_9AM
from tests.engine.test_concurrency import TickingClock, run_threads


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A SQLite file with the queue's tables, service A and a counter serving it."""
    path = tmp_path / "writers.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        service = Service(code="A", prefix="A", names={"zh": "A", "en": "A"})
        s.add(Counter(name="1", services=[service]))
        s.commit()
    engine.dispose()
    return path


@pytest.fixture
def factory(sqlite_path: Path) -> Iterator[sessionmaker[Session]]:
    engine: Engine = make_engine(f"sqlite:///{sqlite_path}")
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def queue_is_free(path: Path) -> bool:
    """No writer of this process holds its turn (asked without waiting)."""
    writers, me = writer_queue(str(path)), object()
    if not writers.enter(me, timeout_s=0):
        return False
    writers.leave(me)
    return True


def test_a_refused_issue_rolled_back_gives_up_its_turn(
    sqlite_path: Path, factory: sessionmaker[Session]
) -> None:
    clock = TickingClock(current=MONDAY_9AM)
    with factory() as s, pytest.raises(QueueError):
        issue_ticket(s, clock, "NO-SUCH-SERVICE")
    assert queue_is_free(sqlite_path)
    with factory() as s:
        assert issue_ticket(s, clock, "A").number == "A001"
        s.commit()
    assert queue_is_free(sqlite_path)


def test_a_session_closed_without_commit_gives_up_its_turn(
    sqlite_path: Path, factory: sessionmaker[Session]
) -> None:
    clock = TickingClock(current=MONDAY_9AM)
    s = factory()
    issue_ticket(s, clock, "A")
    assert not queue_is_free(sqlite_path)  # in the middle of its write transaction
    s.close()  # the pool rolls the transaction back
    assert queue_is_free(sqlite_path)
    with factory() as s:
        assert issue_ticket(s, clock, "A").number == "A001"  # the dropped ticket never was
        s.commit()


def test_writers_of_two_engines_on_one_file_share_the_queue(sqlite_path: Path) -> None:
    """Failed and successful issues from 8 threads on two engines: every good one is numbered once."""
    engines = [make_engine(f"sqlite:///{sqlite_path}") for _ in range(2)]
    factories = [sessionmaker(e, expire_on_commit=False) for e in engines]
    clock = TickingClock(current=MONDAY_9AM)
    refused = threading.Lock()
    refusals: list[int] = []

    def kiosk(i: int) -> None:
        for n in range(20):
            with factories[i % 2]() as s:
                if n % 5 == 4:
                    try:
                        issue_ticket(s, clock, "NO-SUCH-SERVICE")
                    except QueueError:
                        s.rollback()
                        with refused:
                            refusals.append(i)
                    continue
                issue_ticket(s, clock, "A")
                s.commit()

    try:
        run_threads(8, kiosk)
        with factories[0]() as s:
            numbers = s.scalars(select(Ticket.number).order_by(Ticket.sequence)).all()
            assert s.scalar(select(func.count()).select_from(Ticket)) == 8 * 16
    finally:
        for e in engines:
            e.dispose()
    assert numbers == [f"A{n:03d}" for n in range(1, 8 * 16 + 1)]
    assert len(refusals) == 8 * 4
    assert queue_is_free(sqlite_path)


def test_a_thread_holding_its_turn_does_not_wait_for_itself(sqlite_path: Path) -> None:
    """A second writer of the same thread goes on without a turn (to SQLite's busy handler)."""
    writers, first, second = writer_queue(str(sqlite_path)), object(), object()
    answers: list[bool] = []

    def both() -> None:
        assert writers.enter(first, timeout_s=30)
        answers.append(writers.enter(second, timeout_s=30))
        writers.leave(second)  # held nothing: changes nothing
        answers.append(queue_is_free(sqlite_path))
        writers.leave(first)

    worker = threading.Thread(target=both, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the thread waited for itself"
    assert answers == [False, False]
    assert queue_is_free(sqlite_path)


def test_a_turn_left_behind_is_taken_by_the_next_writer(
    sqlite_path: Path, factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    """Should a path ever end a transaction without giving up its turn, the next writer takes the
    turn once it sees the holder's transaction closed, instead of every writer of the process
    waiting the busy timeout (30 s) one after the other."""
    import sqlite3

    writers = writer_queue(str(sqlite_path))
    lost = sqlite3.connect(sqlite_path, check_same_thread=False)  # holds the turn, in no transaction
    entered, done = threading.Event(), threading.Event()

    def hold() -> None:  # the holder's thread lives on (a thread's id is reused once it ends)
        writers.enter(lost, timeout_s=30)
        entered.set()
        done.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    entered.wait(10)
    assert not queue_is_free(sqlite_path)
    numbers: list[str] = []

    def kiosk() -> None:
        with factory() as s:
            numbers.append(issue_ticket(s, TickingClock(current=MONDAY_9AM), "A").number)
            s.commit()

    worker = threading.Thread(target=kiosk, daemon=True)
    with caplog.at_level("WARNING", logger="queue_engine.core.db"):
        worker.start()
        worker.join(20)
    assert not worker.is_alive(), "the writer waited out the busy timeout behind a turn left behind"
    assert numbers == ["A001"]
    assert "a turn was left behind" in caplog.text
    assert queue_is_free(sqlite_path)
    done.set()
    lost.close()
