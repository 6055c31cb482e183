#!/usr/bin/env python3
"""The issue path over HTTP, side by side with the server's own cheapest route, in one run.

Starts our server as production does (gunicorn, one worker: gevent's; gthread's with 64 threads
under ``QMS_ASYNC_MODE=threading``) on a temp SQLite database holding the demo hall (plus
counters 5-9 serving every service) on a free 127.0.0.1 port, and measures with 8 keep-alive
client threads (a ``requests.Session`` each):

* ``GET /healthz`` req/s (no database: the framework's ceiling);
* ``POST /api/v1/tickets`` tickets/s, p50/p99;
* call-next + finish tickets/s, p99 (8 clients at 8 counters serving A, a supervisor's token);
* ``GET /api/v1/display`` and ``GET /api/v1/tickets/<token>`` p99 while 8 clients issue;
* the issue rate again with 2,000 waiting and 5,000 tickets already in the day (filled
  in-process through the engine: issue, then call + finish);
* the SQL statements of one issue and one call-next (an in-process app on the same database,
  counted with SQLAlchemy's ``before_cursor_execute`` event, publishing included), and with
  ``--profile`` a cProfile of 20 issues and of 20 call-next + finish;
* with ``--fqm URL``, the head-to-head with a local FQM in the same run (bench/fqm_peer.py).

Nothing is asserted: this measures.  Only 127.0.0.1 is ever targeted.
Run: ``.venv/bin/python bench/issue_path.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import fqm_peer  # noqa: E402
from bench.engine_bench import (  # noqa: E402
    CALL_COUNTERS,
    Row,
    flask_cli,
    gunicorn,
    load_average,
    machine_line,
    run_parallel,
)
from bench.machine import add_server_env_option, server_settings  # noqa: E402
from queue_engine import Clock, VisitRecord, call_next, finish_visit, issue_ticket  # noqa: E402
from queue_engine.core.db import make_engine  # noqa: E402
from queue_engine.core.kinds import Outcome, TicketStatus  # noqa: E402
from queue_engine.core.models import Ticket  # noqa: E402
from tests.live import server_env  # noqa: E402

CLIENTS = 8
SERVICE = "A"
FULL_WAITING = 2000
FULL_DAY = 5000


# --------------------------------------------------------------------------------------------
# The hall and the in-process app


def in_process_app(url: str) -> Any:
    """The app on the bench's database, in this process (seeding, counting, profiling)."""
    from kiosk import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "QMS_TICKET_RATE_LIMIT": "0",
            "QMS_CHANGE_WATCH": False,
        }
    )


def prepare(url: str, env: dict[str, str]) -> tuple[Any, str, int]:
    """Tables, the demo hall, counters 5-9; the app, a supervisor's bearer token and id."""
    from kiosk.auth import issue_token
    from kiosk.extensions import db
    from queue_engine.core.models import User

    flask_cli(env, "init-db")
    flask_cli(env, "seed-demo")
    app = in_process_app(url)
    BENCH_APP[:] = [app]
    with app.app_context():
        from bench.engine_bench import seed

        seed(sessionmaker(db.engine))  # counters 5-9 (seed_demo itself finds the hall there)
        supervisor = db.session.scalars(select(User).where(User.username == "supervisor")).one()
        token = issue_token(supervisor)
        db.session.commit()
        supervisor_id = supervisor.id
    return app, token, supervisor_id


def flush_publisher() -> None:
    """Wait for this process's publisher, when there is one (after issue 12)."""
    from kiosk import realtime

    flush = getattr(realtime, "flush", None)
    if flush is not None:
        with BENCH_APP[0].app_context():
            flush()


BENCH_APP: list[Any] = []  # the in-process app (its publisher is the one flushed)


def count_statements(app: Any, token: str, *, board: bool) -> dict[str, int]:
    """SQL statements of one issue and of one call-next (request + its publishing)."""
    from kiosk.extensions import db, socketio

    counts: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        engine = db.engine
    seen = [0]

    def tally(*_: Any) -> None:
        seen[0] += 1

    listener = socketio.test_client(app) if board else None
    if listener is not None:
        listener.emit("join", {"room": "display"})
    event.listen(engine, "before_cursor_execute", tally)
    try:
        http = app.test_client()
        for what, send in (
            ("issue", lambda: http.post("/api/v1/tickets", json={"service": SERVICE})),
            ("call-next", lambda: http.post("/api/v1/counters/1/call-next", json={}, headers=headers)),
        ):
            flush_publisher()
            seen[0] = 0
            answer = send()
            flush_publisher()
            counts[what] = seen[0]
            assert answer.status_code in (200, 201), answer.get_data(as_text=True)
        called = answer.get_json()["ticket"]["token"]
        http.post(f"/api/v1/tickets/{called}/finish", json={"outcome": "resolved"}, headers=headers)
        flush_publisher()
    finally:
        event.remove(engine, "before_cursor_execute", tally)
        if listener is not None:
            listener.disconnect()
    return counts


def profile_paths(app: Any, token: str) -> str:
    """cProfile of 20 issues, then of 20 call-next + finish, in-process (no board): the top of
    each cumulative listing."""
    http = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def issue() -> None:
        http.post("/api/v1/tickets", json={"service": SERVICE})

    def call_and_finish() -> None:
        called = http.post("/api/v1/counters/1/call-next", json={}, headers=headers).get_json()
        finish = f"/api/v1/tickets/{called['ticket']['token']}/finish"
        http.post(finish, json={"outcome": "resolved"}, headers=headers)

    out = io.StringIO()
    for what, op in (("20 issues", issue), ("20 call-next + finish", call_and_finish)):
        op()
        flush_publisher()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(20):
            op()
        flush_publisher()
        profiler.disable()
        out.write(f"\n--- cProfile of {what} (in-process) ---\n")
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"kiosk|queue_engine", 30)
    return out.getvalue()


def fill_day(url: str, waiting: int, total: int, staff_id: int) -> str:
    """Bring today to ``total`` tickets with ``waiting`` waiting, through the engine in-process."""
    engine = make_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    clock = Clock(ZoneInfo(os.environ.get("QMS_TIMEZONE", "Asia/Shanghai")))
    record = VisitRecord(outcome=Outcome.RESOLVED)

    def counts(session: Session) -> tuple[int, int]:
        today = clock.today()
        day = session.scalar(select(func.count()).where(Ticket.business_date == today)) or 0
        queue = (
            session.scalar(
                select(func.count()).where(
                    Ticket.business_date == today, Ticket.status == TicketStatus.WAITING
                )
            )
            or 0
        )
        return day, queue

    try:
        with factory() as session:
            day, queue = counts(session)
        for _ in range(max(0, total - day)):
            with factory() as session:
                issue_ticket(session, clock, SERVICE)
                session.commit()

        with factory() as session:
            day, queue = counts(session)
        for n in range(max(0, queue - waiting)):
            counter_id = CALL_COUNTERS[n % len(CALL_COUNTERS)]
            with factory() as session:
                ticket_token = call_next(session, clock, counter_id, staff_id).token
                session.commit()
            with factory() as session:
                finish_visit(session, clock, ticket_token, record, counter_id=counter_id)
                session.commit()
        with factory() as session:
            day, queue = counts(session)
    finally:
        engine.dispose()
    return f"{day} tickets in the day, {queue} waiting"


# --------------------------------------------------------------------------------------------
# Rows over HTTP


def shown(row: Row) -> Row:
    """Print a row as soon as it is measured (a later failure keeps the figures)."""
    print("  " + " | ".join(line(row)), flush=True)
    return row


def issue_row(base: str, tickets: int, what: str) -> Row:
    def client(_: int) -> Callable[[], None]:
        http = requests.Session()

        def op() -> None:
            answer = http.post(f"{base}/api/v1/tickets", json={"service": SERVICE}, timeout=60)
            if answer.status_code != 201:
                raise RuntimeError(f"HTTP {answer.status_code}")

        return op

    row = run_parallel(CLIENTS, tickets, client)
    row.what = what
    row.note = row.halves()
    return row


def healthz_row(base: str, requests_total: int) -> Row:
    def client(_: int) -> Callable[[], None]:
        http = requests.Session()

        def op() -> None:
            if http.get(f"{base}/healthz", timeout=30).status_code != 200:
                raise RuntimeError("healthz")

        return op

    row = run_parallel(CLIENTS, requests_total, client)
    row.what = "GET /healthz (no database)"
    return row


def call_row(base: str, calls: int, token: str) -> Row:
    headers = {"Authorization": f"Bearer {token}"}

    def client(index: int) -> Callable[[], None]:
        http = requests.Session()
        counter_id = CALL_COUNTERS[index]

        def op() -> None:
            called = http.post(
                f"{base}/api/v1/counters/{counter_id}/call-next", json={}, headers=headers, timeout=60
            )
            if called.status_code != 200:
                raise RuntimeError(f"call-next HTTP {called.status_code}")
            ticket = called.json()["ticket"]["token"]
            done = http.post(
                f"{base}/api/v1/tickets/{ticket}/finish",
                json={"outcome": "resolved"},
                headers=headers,
                timeout=60,
            )
            if done.status_code != 200:
                raise RuntimeError(f"finish HTTP {done.status_code}")

        return op

    row = run_parallel(CLIENTS, calls, client)
    row.what = "call-next + finish"
    row.note = row.halves()
    return row


def reads_while_issuing(base: str, tickets: int) -> list[Row]:
    """GET display and GET a ticket, one reader thread each, while 8 clients issue."""
    token = requests.post(f"{base}/api/v1/tickets", json={"service": SERVICE}, timeout=60).json()["token"]
    stop = threading.Event()
    reads: dict[str, Row] = {
        "/api/v1/display": Row(what="GET /api/v1/display while 8 issue", database="SQLite", threads=1),
        f"/api/v1/tickets/{token}": Row(
            what="GET /api/v1/tickets/<token> while 8 issue", database="SQLite", threads=1
        ),
    }

    def reader(path: str, row: Row) -> None:
        http = requests.Session()
        began_all = time.perf_counter()
        while not stop.is_set():
            began = time.perf_counter()
            answer = http.get(f"{base}{path}", timeout=60)
            if answer.status_code == 200:
                row.latencies_s.append(time.perf_counter() - began)
            else:
                row.errors[f"HTTP {answer.status_code}"] += 1
        row.seconds = time.perf_counter() - began_all
        row.ops = len(row.latencies_s)

    threads = [threading.Thread(target=reader, args=item, daemon=True) for item in reads.items()]
    for thread in threads:
        thread.start()
    issuing = issue_row(base, tickets, "issue, with 2 readers beside")
    stop.set()
    for thread in threads:
        thread.join()
    return [issuing, *reads.values()]


# --------------------------------------------------------------------------------------------


HEADERS = ["what", "ops", "seconds", "ops/s", "p50 ms", "p99 ms", "notes"]


def line(row: Row) -> list[str]:
    note = row.note
    if row.errors:
        errors = ", ".join(f"{name} x{n}" for name, n in row.errors.most_common())
        note = f"{note}; ERRORS: {errors}" if note else f"ERRORS: {errors}"
    return [
        row.what,
        str(row.ops),
        f"{row.seconds:.2f}",
        f"{row.rate:.0f}",
        f"{row.percentile_ms(50):.1f}",
        f"{row.percentile_ms(99):.1f}",
        note,
    ]


def markdown(rows: list[Row]) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "| --- | --: | --: | --: | --: | --: | --- |"]
    out += ["| " + " | ".join(c.replace("|", "/") for c in line(r)) + " |" for r in rows]
    return "\n".join(out)


@contextlib.contextmanager
def bench_database() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="qms-issue-path-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", Path(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small counts, an empty-hall fill of 300/100")
    parser.add_argument("--tickets", type=int, default=400, help="tickets per issue row")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of 20 issues and of 20 call-next + finish"
    )
    parser.add_argument("--waiting", type=int, help="the full day's waiting (default 2,000; --quick 100)")
    parser.add_argument("--day", type=int, help="the full day's tickets (default 5,000; --quick 300)")
    add_server_env_option(parser)  # e.g. --server-env QMS_ASYNC_MODE=gevent
    fqm_peer.add_arguments(parser)
    args = parser.parse_args(argv)
    tickets = 60 if args.quick else args.tickets
    full_waiting, full_day = (100, 300) if args.quick else (FULL_WAITING, FULL_DAY)
    full_waiting, full_day = args.waiting or full_waiting, args.day or full_day
    load_before = load_average()
    began = time.perf_counter()
    print(f"Machine: {machine_line(with_pg=False)}")
    print(f"Load average at start: {load_before}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    rows: list[Row] = []
    peer: fqm_peer.HeadToHead | None = None
    with bench_database() as (url, tmp):
        # The in-process fill is the bench's own doing: the server's change watcher would publish
        # its thousands of changes (and, before issue 12, hold the write lock doing so).
        env = server_env(url, QMS_CHANGE_WATCH_SECONDS="0", **server_settings(args.server_env))
        env["QMS_INSTANCE_PATH"] = str(tmp / "instance")
        os.environ["QMS_INSTANCE_PATH"] = env["QMS_INSTANCE_PATH"]
        app, token, supervisor_id = prepare(url, env)
        quiet = count_statements(app, token, board=False)
        watched = count_statements(app, token, board=True)
        print(
            f"SQL statements: issue {quiet['issue']} (with a board listening {watched['issue']}), "
            f"call-next {quiet['call-next']} (with a board {watched['call-next']})",
            flush=True,
        )
        if args.profile:
            print(profile_paths(app, token))
        with gunicorn(env, tmp / "gunicorn.log") as base:
            server_cpu = fqm_peer.ServerCpu.listening(base)  # notes a row's server CPU per ticket
            requests.get(f"{base}/api/v1/display", timeout=10)
            rows.append(shown(server_cpu(lambda: healthz_row(base, tickets * 5))))
            rows.append(
                shown(server_cpu(lambda: issue_row(base, tickets, "POST /api/v1/tickets (empty hall)")))
            )
            rows.append(shown(server_cpu(lambda: call_row(base, tickets // 2, token))))
            rows += [shown(row) for row in reads_while_issuing(base, tickets)]
            if args.fqm:  # the head-to-head with a local FQM, in this run (bench/fqm_peer.py)
                peer = fqm_peer.head_to_head(
                    args, ours=rows[:3], ours_cpu=server_cpu, tickets=tickets, show=shown
                )
                rows += peer.rows
            print(f"Filling the day: {fill_day(url, full_waiting, full_day, supervisor_id)}", flush=True)
            rows.append(
                issue_row(
                    base, tickets, f"POST /api/v1/tickets ({full_waiting} waiting, {full_day} in the day)"
                )
            )
    health = rows[0].rate
    for row in rows[1:3]:
        row.note = f"{row.note}; {row.rate / health:.0%} of /healthz" if health else row.note
    table = markdown(rows)
    print()
    print(table)
    if peer is not None:
        print(f"\n{peer.summary()}")
    print(
        f"\nRun took {time.perf_counter() - began:.0f} s; load average at start {load_before}, "
        f"at end {load_average()}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
