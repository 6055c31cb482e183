#!/usr/bin/env python3
"""What the outbox costs the issue and call paths, and how fast one worker delivers (issue 15).

In-process, through the engine (as ``engine_bench.py``), on a temp SQLite file and, when one
answers, a fresh PostgreSQL schema, both holding the demo hall plus counters 5-9:

* issue tickets/s and call-next + finish visits/s with **no** subscription and with **one**
  subscription to every event (so each issue writes ``ticket.issued`` and, once the queue is
  long enough, ``ticket.near``; each call ``ticket.called`` and ``ticket.near``; each finish
  ``ticket.finished``).  The two are measured in the same run, alternating round by round
  (the subscription switched off and on between rounds, after a warm-up round of each), so
  that the machine's other load falls on both alike; the table gives each mode's median round
  and the difference.
* deliveries/s of one worker (``deliver_due`` in a loop, one thread, batches of 50) sending
  what the rounds wrote to a real local receiver (``tests/receiver.py``: ``http.server`` in a
  thread of this process, checking every signature, answering 200).

Nothing is asserted: this measures.  Only 127.0.0.1 is ever targeted.
Run: ``PYTHONPATH=. .venv/bin/python bench/outbox.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine_bench import (  # noqa: E402
    CALL_COUNTERS,
    SERVICE,
    database,
    load_average,
    machine_line,
    pg_base_url,
    pg_unavailable,
    run_parallel,
    seed,
)
from queue_engine import Clock, VisitRecord, call_next, finish_visit, issue_ticket  # noqa: E402
from queue_engine.core.db import make_engine  # noqa: E402
from queue_engine.core.kinds import Outcome  # noqa: E402
from queue_engine.core.models import Base  # noqa: E402
from queue_engine.notify import webhooks as _webhooks  # noqa: E402,F401 (the outbox hook, the channel)
from queue_engine.notify.models import OutboxMessage, WebhookSubscription  # noqa: E402
from queue_engine.notify.outbox import EVENTS  # noqa: E402
from queue_engine.notify.webhooks import subscribe  # noqa: E402
from queue_engine.notify.worker import RetryPolicy, deliver_due  # noqa: E402
from tests.receiver import Receiver  # noqa: E402

MODES = ("no subscription", "1 subscription, all events")


def set_listening(factory: sessionmaker[Session], on: bool) -> None:
    with factory() as session:
        session.execute(update(WebhookSubscription).values(active=on))
        session.commit()


def one_round(factory: sessionmaker[Session], clock: Clock, threads: int, ops: int) -> tuple[float, float]:
    """Issue ``ops`` tickets, then call and finish ``ops`` visits: the two rates (per second)."""

    def issuer(_: int) -> Callable[[], None]:
        def op() -> None:
            with factory() as session:
                issue_ticket(session, clock, SERVICE)
                session.commit()

        return op

    def caller(index: int) -> Callable[[], None]:
        counter_id = CALL_COUNTERS[index % len(CALL_COUNTERS)]
        record = VisitRecord(outcome=Outcome.RESOLVED)

        def op() -> None:
            with factory() as session:
                token = call_next(session, clock, counter_id).token
                session.commit()
            with factory() as session:
                finish_visit(session, clock, token, record, counter_id=counter_id)
                session.commit()

        return op

    issued = run_parallel(threads, ops, issuer)
    called = run_parallel(threads, ops, caller)
    return issued.rate, called.rate


def statements(engine: Any, factory: sessionmaker[Session], clock: Clock, counter_id: int) -> tuple[int, int]:
    """SQL statements of one issue and one call-next (BEGIN included), as the mode stands."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        with factory() as session:
            issue_ticket(session, clock, SERVICE)
            session.commit()
        issued = len(seen)
        seen.clear()
        with factory() as session:
            token = call_next(session, clock, counter_id).token
            session.commit()
        called = len(seen)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    with factory() as session:
        finish_visit(session, clock, token, VisitRecord(outcome=Outcome.RESOLVED), counter_id=counter_id)
        session.commit()
    return issued, called


def pending(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).where(OutboxMessage.status == "pending")) or 0)


def deliveries(factory: sessionmaker[Session], receiver: Receiver, limit: int) -> tuple[int, float, int]:
    """One worker sends what is pending: (sent, seconds, receiver's count)."""
    policy = RetryPolicy(timeout_s=5)
    sent = 0
    began = time.perf_counter()
    with factory() as session:
        while sent < limit:
            done = deliver_due(session, datetime.now(UTC), limit=50, policy=policy)
            if done == 0:
                break
            sent += done
    return sent, time.perf_counter() - began, len(receiver.accepted())


def bench(kind: str, url: str, threads_list: tuple[int, ...], ops: int, rounds: int) -> list[list[str]]:
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 5} if kind == "PostgreSQL" else {}
    engine = make_engine(url, **options)
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    clock = Clock(ZoneInfo("Asia/Shanghai"))
    seed(factory)
    lines: list[list[str]] = []
    receiver = Receiver()
    receiver.start()
    try:
        with factory() as session:
            receiver.secret = subscribe(
                session, clock.now(), receiver.url, list(EVENTS), actor_id=None
            ).secret
            session.commit()
        with factory() as session:  # a queue to call from, and warm caches
            for _ in range(20):
                issue_ticket(session, clock, SERVICE)
                session.commit()
        for index, mode in enumerate(MODES):
            set_listening(factory, mode != MODES[0])
            issued, called = statements(engine, factory, clock, CALL_COUNTERS[index])
            lines.append([kind, "statements", mode, f"{issued} per issue", "", f"{called} per call-next", ""])
            print(" | ".join(lines[-1]), flush=True)
        for threads in threads_list:
            rates: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
            for mode in MODES:  # a warm-up round of each, not counted
                set_listening(factory, mode != MODES[0])
                one_round(factory, clock, threads, max(10, ops // 4))
            for _ in range(rounds):
                for mode in MODES:
                    set_listening(factory, mode != MODES[0])
                    rates[mode].append(one_round(factory, clock, threads, ops))
            base_issue = statistics.median(r[0] for r in rates[MODES[0]])
            base_call = statistics.median(r[1] for r in rates[MODES[0]])
            for mode in MODES:
                issue = statistics.median(r[0] for r in rates[mode])
                call = statistics.median(r[1] for r in rates[mode])
                issues = [r[0] for r in rates[mode]]
                calls = [r[1] for r in rates[mode]]
                lines.append(
                    [
                        kind,
                        str(threads),
                        mode,
                        f"{issue:.0f} ({min(issues):.0f}-{max(issues):.0f})",
                        f"{(issue / base_issue - 1) * 100:+.1f}%",
                        f"{call:.0f} ({min(calls):.0f}-{max(calls):.0f})",
                        f"{(call / base_call - 1) * 100:+.1f}%",
                    ]
                )
                print(" | ".join(lines[-1]), flush=True)
        waiting = pending(factory)
        sent, seconds, got = deliveries(factory, receiver, limit=min(waiting, 3000))
        print(f"{kind}: one worker sent {sent} of {waiting} pending in {seconds:.2f} s "
              f"({sent / seconds:.0f}/s); receiver accepted {got}, bad signatures {receiver.bad_signatures}",
              flush=True)  # fmt: skip
        rate = f"{sent / seconds:.0f}/s"
        lines.append([kind, "1 worker", "deliveries", f"{sent}", f"{seconds:.2f} s", rate, ""])
    finally:
        receiver.stop()
        engine.dispose()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few operations")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of each mode (default 6)")
    parser.add_argument("--ops", type=int, default=100, help="issues (and calls) per round (default 100)")
    args = parser.parse_args(argv)
    ops, rounds = (40, 1) if args.quick else (args.ops, args.rounds)
    threads = (1,) if args.quick else (1, 4)
    kinds = ["SQLite"]
    why = "" if args.sqlite_only else pg_unavailable(pg_base_url())
    if not args.sqlite_only and not why:
        kinds.append("PostgreSQL")
    print(machine_line("PostgreSQL" in kinds), "·", load_average(), flush=True)
    if why:
        print(f"PostgreSQL skipped: {why}", flush=True)
    table: list[list[str]] = []
    for kind in kinds:
        with database(kind) as url:
            table += bench(kind, url, threads, ops, rounds)
    print()
    print(f"{rounds} rounds of {ops} per mode; median round (slowest-fastest)")
    print("| database | threads | mode | issues/s | vs none | call+finish/s | vs none |")
    print("|---|---|---|---|---|---|---|")
    for line in table:
        print("| " + " | ".join(line) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
