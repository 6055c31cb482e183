"""One issue in-process, on one thread, at 0 / 500 / 2,000 waiting: its time and the write lock's.

The large hall (``seed_large``: 30 counters over 12 services, a week of pauses behind them as
bench/estimates.py's ``cost``), all counters open, the waiting tickets spread over the
services.  An issue is what ``POST /api/v1/tickets`` runs in the engine: ``issue_ticket``, the
commit, the answer (``issued_ticket_view``).  Two kinds, 25 issues each, medians:

* ``issue``: back to back, the clock moving 20 ms an issue (about the HTTP bench's rate);
* ``after a call``: each issue after a call-next and a no-show elsewhere in the hall, so the
  queue changed since the issue before (what a hall at work does between two issues).

``lock`` is the write transaction's time (``BEGIN IMMEDIATE`` to the end of its commit).

    .venv/bin/python bench/issue_cost.py [--waiting 0,500,2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.cli.seed_large import seed_large  # noqa: E402
from queue_engine import call_next, issue_ticket, mark_no_show  # noqa: E402
from queue_engine.core.clock import FakeClock  # noqa: E402
from queue_engine.core.db import READ_ONLY_OPTION, make_engine  # noqa: E402
from queue_engine.core.errors import NoTicketWaiting  # noqa: E402
from queue_engine.core.kinds import ACTIVE_STATUSES, Role, Source  # noqa: E402
from queue_engine.core.models import Base, Counter, Service, Ticket, User  # noqa: E402
from queue_engine.queue.counters import open_counter  # noqa: E402
from queue_engine.queue.snapshots import issued_ticket_view  # noqa: E402
from queue_engine.queue.tickets import enqueue  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
ISSUES = 25
STEP = timedelta(milliseconds=20)


def measure(workdir: Path, waiting: int) -> dict[str, float]:
    """Median ms of an issue and of its write lock, back to back and after a call."""
    engine = make_engine(f"sqlite:///{workdir / f'cost-{waiting}.sqlite3'}")
    Base.metadata.create_all(engine)
    lock: dict[str, float] = {}

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if not connection.get_execution_options().get(READ_ONLY_OPTION):
            lock["began"] = time.perf_counter()  # just before BEGIN IMMEDIATE

    with Session(engine, expire_on_commit=False) as session:
        seed_large(session, None, "bench-pass-1")
        clock = FakeClock(tz=TZ)
        clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
        clerks = list(session.scalars(select(User).where(User.role == Role.CLERK).order_by(User.id)))
        counters = list(session.scalars(select(Counter).order_by(Counter.id)))
        on_duty = list(zip(counters, clerks, strict=False))
        for counter, clerk in on_duty:
            open_counter(session, clock, counter.id, clerk.id)
        session.commit()
        services = list(session.scalars(select(Service).order_by(Service.id)))
        for n in range(waiting + len(on_duty)):
            enqueue(session, clock, services[n % len(services)], lang="zh", source=Source.KIOSK)
        session.commit()
        for counter, clerk in on_duty:  # the counters busy with a visitor, as in a hall at work
            with suppress(NoTicketWaiting):
                call_next(session, clock, counter.id, clerk.id)
        session.commit()
        code = services[0].code

        def ended(_session: Session) -> None:
            lock["ended"] = time.perf_counter()

        event.listen(session, "after_commit", ended)

        def issue() -> tuple[float, float]:
            clock.advance(seconds=STEP.total_seconds())
            started = time.perf_counter()
            ticket = issue_ticket(session, clock, code, source=Source.API)
            session.commit()
            held = lock["ended"] - lock["began"]
            issued_ticket_view(session, clock, ticket)
            session.rollback()  # the answer's read ends
            return (time.perf_counter() - started) * 1000, held * 1000

        def call_elsewhere(n: int) -> None:
            counter, clerk = on_duty[-1 - n % 5]
            held_ticket = session.scalars(
                select(Ticket).where(Ticket.counter_id == counter.id, Ticket.status.in_(ACTIVE_STATUSES))
            ).first()
            if held_ticket is not None:
                mark_no_show(session, clock, held_ticket.token)
                session.commit()
            with suppress(NoTicketWaiting):
                call_next(session, clock, counter.id, clerk.id)
            session.commit()

        for _ in range(3):
            issue()  # warm-up: the week's pauses read once, statements compiled
        back = [issue() for _ in range(ISSUES)]
        after = []
        for n in range(ISSUES):
            call_elsewhere(n)
            after.append(issue())
    engine.dispose()
    return {
        "issue": statistics.median(t for t, _ in back),
        "issue lock": statistics.median(lock for _, lock in back),
        "after a call": statistics.median(t for t, _ in after),
        "after a call lock": statistics.median(lock for _, lock in after),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--waiting", default="0,500,2000")
    args = parser.parse_args()
    counts = [int(x) for x in args.waiting.split(",")]
    print("| ms (median of 25) | " + " | ".join(f"{n} waiting" for n in counts) + " |")
    print("| --- |" + " --: |" * len(counts))
    with tempfile.TemporaryDirectory() as tmp:
        figures = [measure(Path(tmp), n) for n in counts]
    for key in figures[0]:
        print(f"| {key} | " + " | ".join(f"{f[key]:.1f}" for f in figures) + " |")


if __name__ == "__main__":
    main()
