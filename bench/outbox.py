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

With ``--http``, the same comparison over HTTP, on the paths of the speed issue (issue 12):
the production server (gunicorn, one worker, as ``issue_path.py``) on SQLite, 8
keep-alive clients issuing ``POST /api/v1/tickets``, then calling and finishing as many over
the API (so that the queue stays as long), the two modes alternating round by round (AB BA).
Besides the rates it reads the server's own CPU time (``/proc``: user + system of the gunicorn
processes) per operation, a figure the machine's other load moves far less than a rate.
Twice: with the server's outbox worker off (what the outbox adds to the request path) and on
(the same process also delivering every row to a local receiver: the whole cost of one
subscription to every event).

Nothing is asserted: this measures.  Only 127.0.0.1 is ever targeted.
Run: ``PYTHONPATH=. .venv/bin/python bench/outbox.py`` (``--quick`` for a smoke run,
``--http`` for the HTTP rows).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
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


def one_round(
    factory: sessionmaker[Session], clock: Clock, threads: int, ops: int
) -> tuple[float, float, float, float]:
    """Issue ``ops`` tickets, then call and finish ``ops`` visits: the two rates (per second) and
    this process's CPU milliseconds per operation of each (on SQLite all the work is here)."""

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

    cpu = time.process_time()
    issued = run_parallel(threads, ops, issuer)
    cpu_issue = (time.process_time() - cpu) * 1000 / ops
    cpu = time.process_time()
    called = run_parallel(threads, ops, caller)
    cpu_call = (time.process_time() - cpu) * 1000 / ops
    return issued.rate, called.rate, cpu_issue, cpu_call


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
            lines.append(
                [kind, "statements", mode, f"{issued} per issue", "", "", f"{called} per call-next", "", ""]
            )
            print(" | ".join(lines[-1]), flush=True)
        for threads in threads_list:
            rates: dict[str, list[tuple[float, float, float, float]]] = {mode: [] for mode in MODES}
            for mode in MODES:  # a warm-up round of each, not counted
                set_listening(factory, mode != MODES[0])
                one_round(factory, clock, threads, max(10, ops // 4))
            for index in range(rounds):
                for mode in MODES if index % 2 == 0 else MODES[::-1]:  # AB BA ...
                    set_listening(factory, mode != MODES[0])
                    rates[mode].append(one_round(factory, clock, threads, ops))
            base = [statistics.median(r[i] for r in rates[MODES[0]]) for i in range(4)]
            for mode in MODES:
                median = [statistics.median(r[i] for r in rates[mode]) for i in range(4)]
                issues = [r[0] for r in rates[mode]]
                calls = [r[1] for r in rates[mode]]
                lines.append(
                    [
                        kind,
                        str(threads),
                        mode,
                        f"{median[0]:.0f} ({min(issues):.0f}-{max(issues):.0f})",
                        f"{(median[0] / base[0] - 1) * 100:+.1f}%",
                        f"{median[2]:.2f} ms ({(median[2] / base[2] - 1) * 100:+.0f}%)",
                        f"{median[1]:.0f} ({min(calls):.0f}-{max(calls):.0f})",
                        f"{(median[1] / base[1] - 1) * 100:+.1f}%",
                        f"{median[3]:.2f} ms ({(median[3] / base[3] - 1) * 100:+.0f}%)",
                    ]
                )
                print(" | ".join(lines[-1]), flush=True)
        set_listening(factory, True)  # the last round may have been the unsubscribed one
        waiting = pending(factory)
        sent, seconds, got = deliveries(factory, receiver, limit=min(waiting, 3000))
        print(f"{kind}: one worker sent {sent} of {waiting} pending in {seconds:.2f} s "
              f"({sent / seconds:.0f}/s); receiver accepted {got}, bad signatures {receiver.bad_signatures}",
              flush=True)  # fmt: skip
        rate = f"{sent / seconds:.0f}/s"
        lines.append([kind, "1 worker", "deliveries", f"{sent}", f"{seconds:.2f} s", "", rate, "", ""])
    finally:
        receiver.stop()
        engine.dispose()
    return lines


def server_cpu_s(base: str) -> float:
    """User + system CPU seconds of the gunicorn serving ``base`` (master and workers), from /proc."""
    bind = f"127.0.0.1:{base.rsplit(':', 1)[1]}".encode()
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = [entry.joinpath("cmdline").read_bytes().decode("latin-1")] + (
                    entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()
                )
            except OSError:
                continue
    masters = {pid for pid, found in stats.items() if "gunicorn" in found[0] and bind.decode() in found[0]}
    mine = [found for pid, found in stats.items() if pid in masters or int(found[2]) in masters]
    return sum(int(found[12]) + int(found[13]) for found in mine) / ticks


def http_bench(rounds: int, ops: int, worker: bool) -> list[list[str]]:
    """Issue and call-next + finish over HTTP, no subscription vs one to every event, alternating."""
    from bench.engine_bench import gunicorn
    from bench.issue_path import call_row, issue_row, prepare
    from tests.live import server_env

    lines: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="qms-outbox-http-") as tmp, Receiver() as receiver:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        env = server_env(
            url,
            QMS_CHANGE_WATCH_SECONDS="0",
            QMS_OUTBOX_WORKER="1" if worker else "0",
            QMS_OUTBOX_SECONDS="0.2",
        )
        _app, token, _ = prepare(url, env)
        engine = make_engine(url)
        factory = sessionmaker(engine, expire_on_commit=False)
        with factory() as session:
            clock = Clock(ZoneInfo("Asia/Shanghai"))
            receiver.secret = subscribe(
                session, clock.now(), receiver.url, list(EVENTS), actor_id=None
            ).secret
            session.commit()
        label = "worker on, delivering" if worker else "worker off"
        rates: dict[str, list[tuple[float, float, float, float]]] = {mode: [] for mode in MODES}
        with gunicorn(env, Path(tmp) / "gunicorn.log") as base:
            for mode in MODES:  # a warm-up round of each, not counted
                set_listening(factory, mode != MODES[0])
                issue_row(base, max(16, ops // 4), "warm-up")
                call_row(base, max(8, ops // 8), token)
            for index in range(rounds):
                # Every call+finish takes one ticket off the queue an issue put on, so that the
                # queue (which an issue's estimate reads) stays as long; the order of the modes
                # alternates (AB BA ...), so that neither always meets the longer day.
                for mode in MODES if index % 2 == 0 else MODES[::-1]:
                    set_listening(factory, mode != MODES[0])
                    cpu = server_cpu_s(base)
                    issued = issue_row(base, ops, "issue")
                    cpu_issue = server_cpu_s(base) - cpu
                    cpu = server_cpu_s(base)
                    called = call_row(base, ops, token)
                    cpu_call = server_cpu_s(base) - cpu
                    rates[mode].append(
                        (issued.rate, cpu_issue * 1000 / ops, called.rate, cpu_call * 1000 / ops)
                    )
            time.sleep(1.0 if worker else 0)
        engine.dispose()
        base_cpu = [statistics.median(r[i] for r in rates[MODES[0]]) for i in range(4)]
        for mode in MODES:
            median = [statistics.median(r[i] for r in rates[mode]) for i in range(4)]
            lines.append(
                [
                    "SQLite, HTTP",
                    label,
                    mode,
                    f"{median[0]:.0f}",
                    f"{median[1]:.1f} ms ({(median[1] / base_cpu[1] - 1) * 100:+.0f}%)",
                    f"{median[2]:.0f}",
                    f"{median[3]:.1f} ms ({(median[3] / base_cpu[3] - 1) * 100:+.0f}%)",
                ]
            )
            print(" | ".join(lines[-1]), flush=True)
        if worker:
            print(f"receiver accepted {len(receiver.accepted())}, bad signatures {receiver.bad_signatures}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", action="store_true", help="only the HTTP rows (SQLite, gunicorn)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few operations")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of each mode (default 6)")
    parser.add_argument("--ops", type=int, default=100, help="issues (and calls) per round (default 100)")
    args = parser.parse_args(argv)
    ops, rounds = (40, 1) if args.quick else (args.ops, args.rounds)
    if args.http:
        print(machine_line(False), "·", load_average(), flush=True)
        table = http_bench(rounds, ops, worker=False) + http_bench(rounds, ops, worker=True)
        print()
        print(f"{rounds} rounds of {ops} issues and {ops} calls per mode, 8 clients; median round")
        columns = ["database", "server", "mode", "issues/s", "server CPU per issue"]
        columns += ["call+finish/s", "server CPU per call+finish"]
        print("| " + " | ".join(columns) + " |")
        print("|---|---|---|---|---|---|---|")
        for line in table:
            print("| " + " | ".join(line) + " |")
        print(f"load average at end: {load_average()}")
        return 0
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
    columns = ["database", "threads", "mode", "issues/s", "vs none", "CPU per issue"]
    columns += ["call+finish/s", "vs none", "CPU per call+finish"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for line in table:
        print("| " + " | ".join(line) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
