#!/usr/bin/env python3
"""Throughput and latency of the queue engine, in-process and through the real server.

Measures (nothing is asserted; this is a benchmark, not a test):

1. In-process, through ``queue_engine`` directly:
   * issue rate: ``issue_ticket`` + commit, one transaction per ticket;
   * call-next rate: ``call_next`` + commit, then ``finish_visit`` + commit, so the counter frees;
   each with 1 thread and with 8 threads (8 threads call at 8 different counters), on SQLite (a temp file,
   configured by ``queue_engine.core.db.make_engine``: WAL + BEGIN IMMEDIATE) and on PostgreSQL.
2. Over HTTP: the real server started as production starts it (gunicorn, 1 worker: gevent's, or gthread's
   with 64 threads under ``QMS_ASYNC_MODE=threading``) after ``flask --app kiosk init-db``
   and ``seed-demo``; 8 client threads POST ``/api/v1/tickets``; tickets/s and latency
   percentiles; on SQLite and on PostgreSQL.

PostgreSQL: ``QMS_BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
every run works in a fresh schema it creates and drops, so no other data is touched.  Only
127.0.0.1 is ever targeted.  When PostgreSQL is unreachable its rows say SKIPPED.

Run: ``make bench`` (= ``.venv/bin/python bench/engine_bench.py``); ``--quick`` for a smoke run,
``--tickets N`` to change the counts.  The table is printed and written to bench/results/engine.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from queue_engine import Clock, VisitRecord, call_next, finish_visit, issue_ticket
from queue_engine.core.db import make_engine, sqlalchemy_url
from queue_engine.core.kinds import Outcome
from queue_engine.core.models import Base, Counter, Service

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import cpu_model  # noqa: E402
from tests.live import free_port, server_env, worker_args  # noqa: E402  (the servers the tests start, started alike)
from tests.services import fresh_schema  # noqa: E402  (the schemas the tests make, made alike)

VENV_BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results" / "engine.md"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
LOCAL_HOSTS = {"127.0.0.1"}
THREADS = (1, 8)
HTTP_CLIENTS = 8
SERVICE = "A"
# Counters that serve service A: the demo hall's 1-3 (4 serves C and D only), and 5-9 added here.
CALL_COUNTERS = (1, 2, 3, 5, 6, 7, 8, 9)


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Row:
    """One line of the table."""

    what: str
    database: str
    threads: int
    ops: int = 0
    seconds: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    finished_at_s: list[float] = field(default_factory=list)  # successful ops' end, from the start
    errors: Tally[str] = field(default_factory=Tally)
    error_samples: dict[str, str] = field(default_factory=dict)  # first message of each kind
    note: str = ""
    skipped: str = ""

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def halves(self) -> str:
        """Rate over the first and the second half of the completed operations."""
        ends = sorted(self.finished_at_s)
        if len(ends) < 4:
            return ""
        middle = len(ends) // 2
        first = middle / ends[middle - 1]
        second = (len(ends) - middle) / (ends[-1] - ends[middle - 1])
        return f"1st half {first:.0f}/s, 2nd half {second:.0f}/s"

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000


def run_parallel(threads: int, total: int, make_op: Callable[[int], Callable[[], None]]) -> Row:
    """Run ``total`` operations spread over ``threads`` threads started together.

    ``make_op(worker_index)`` gives each thread its operation (called once per op).  The wall
    time runs from the common start to the last thread's end.
    """
    row = Row(what="", database="", threads=threads)
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)
    shares = [total // threads + (1 if i < total % threads else 0) for i in range(threads)]

    def worker(index: int) -> None:
        op = make_op(index)
        latencies: list[float] = []
        ends: list[float] = []
        errors: Tally[str] = Tally()
        barrier.wait()
        for _ in range(shares[index]):
            began = time.perf_counter()
            try:
                op()
            except Exception as exc:  # counted and reported, never raised: this measures
                errors[type(exc).__name__] += 1
                with lock:
                    row.error_samples.setdefault(type(exc).__name__, str(exc)[:300])
                continue
            ended = time.perf_counter()
            latencies.append(ended - began)
            ends.append(ended)
        with lock:
            row.latencies_s.extend(latencies)
            row.finished_at_s.extend(ends)
            row.errors.update(errors)

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    row.seconds = time.perf_counter() - started
    row.finished_at_s = [end - started for end in row.finished_at_s]
    for name, message in row.error_samples.items():
        print(f"  ! {row.errors[name]} x {name}, the first: {message}", flush=True)
    row.ops = len(row.latencies_s)
    return row


# --------------------------------------------------------------------------------------------
# Databases


def pg_base_url() -> str:
    return sqlalchemy_url(os.environ.get("QMS_BENCH_DATABASE_URL", DEFAULT_PG))


def pg_unavailable(url: str) -> str:
    """Why PostgreSQL cannot be used ('' when it can)."""
    try:
        host = make_url(url).host or ""
    except Exception as exc:
        return f"bad QMS_BENCH_DATABASE_URL ({exc})"
    if host not in LOCAL_HOSTS:
        return f"the bench only targets 127.0.0.1, not {host!r}"
    engine = make_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:
        return f"PostgreSQL not reachable at {make_url(url).render_as_string()}: {type(exc).__name__}"
    finally:
        engine.dispose()
    return ""


def pg_schema(base_url: str) -> contextlib.AbstractContextManager[str]:
    """A URL whose connections use a fresh schema, dropped (with everything in it) afterwards."""
    return fresh_schema(base_url)


@contextlib.contextmanager
def sqlite_file() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="qms-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "SQLite":
        with sqlite_file() as url:
            yield url
    else:
        with pg_schema(pg_base_url()) as url:
            yield url


def pg_version() -> str:
    engine = make_engine(pg_base_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("show server_version")).scalar_one()).split()[0]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# In-process


def seed(factory: sessionmaker[Session]) -> None:
    """The demo hall of ``kiosk.cli.seed`` plus counters 5-9 (serving every service)."""
    from kiosk.cli.seed import seed_demo

    with factory() as session:
        seed_demo(session, None, password="bench-password")
        services = list(session.query(Service).order_by(Service.sort_order))
        for counter_id in CALL_COUNTERS:
            if session.get(Counter, counter_id) is None:
                counter = Counter(id=counter_id, name=str(counter_id), state="closed", active=True)
                counter.services = services
                session.add(counter)
        session.commit()


def waiting_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("select count(*) from tickets where status = 'waiting'")).scalar_one())


def in_process(kind: str, url: str, tickets: int, calls: int) -> list[Row]:
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 5} if kind == "PostgreSQL" else {}
    engine = make_engine(url, **options)
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    clock = Clock(ZoneInfo("Asia/Shanghai"))
    seed(factory)
    rows: list[Row] = []
    try:

        def issuer(_: int) -> Callable[[], None]:
            def op() -> None:
                with factory() as session:
                    issue_ticket(session, clock, SERVICE)
                    session.commit()

            return op

        def caller(index: int) -> Callable[[], None]:
            counter_id = CALL_COUNTERS[index]
            record = VisitRecord(outcome=Outcome.RESOLVED)

            def op() -> None:
                with factory() as session:
                    token = call_next(session, clock, counter_id).token
                    session.commit()
                with factory() as session:
                    finish_visit(session, clock, token, record, counter_id=counter_id)
                    session.commit()

            return op

        issuer(0)()  # warm the pool and the statement caches
        for threads in THREADS:
            before = waiting_count(engine)
            row = run_parallel(threads, tickets, issuer)
            row.what, row.database = "issue (in-process)", kind
            row.note = f"queue {before} -> {waiting_count(engine)} waiting"
            rows.append(row)
        for threads in THREADS:
            before = waiting_count(engine)
            row = run_parallel(threads, calls, caller)
            row.what, row.database = "call-next + finish (in-process)", kind
            row.note = f"queue {before} -> {waiting_count(engine)} waiting"
            rows.append(row)
    finally:
        engine.dispose()
    return rows


# --------------------------------------------------------------------------------------------
# HTTP through the real server


def flask_cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "kiosk", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    """The production server on a free 127.0.0.1 port; yields its base URL.

    Its worker as ``make run`` chooses it from ``QMS_ASYNC_MODE`` (gevent unless ``threading``:
    then gthread, 64 threads)."""
    port = free_port()
    command = [
        str(VENV_BIN / "gunicorn"),
        *worker_args(env, threads=64),
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{port}",
        "kiosk.wsgi:app",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
            try:
                if requests.get(f"{base}/api/v1/services", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def over_http(kind: str, url: str, tickets: int, workdir: Path) -> Row:
    env = server_env(url)
    flask_cli(env, "init-db")
    flask_cli(env, "seed-demo")
    with gunicorn(env, workdir / f"gunicorn-{kind}.log") as base:
        numbers: list[str] = []
        statuses: Tally[int] = Tally()
        lock = threading.Lock()

        def client(_: int) -> Callable[[], None]:
            http = requests.Session()

            def op() -> None:
                answer = http.post(f"{base}/api/v1/tickets", json={"service": SERVICE}, timeout=60)
                with lock:
                    statuses[answer.status_code] += 1
                    if answer.status_code == 201:
                        numbers.append(answer.json()["number"])
                if answer.status_code != 201:
                    raise RuntimeError(f"HTTP {answer.status_code}")

            return op

        requests.get(f"{base}/api/v1/display", timeout=10)  # warm the worker
        row = run_parallel(HTTP_CLIENTS, tickets, client)
    row.what, row.database = "issue over HTTP (gunicorn)", kind
    created = statuses[201]
    distinct = len(set(numbers))
    verdict = "OK" if distinct == created else "MISMATCH"
    row.note = f"{row.halves()}; {distinct} distinct numbers / {created} x 201: {verdict}"
    others = {code: n for code, n in statuses.items() if code != 201}
    if others:
        row.note += f"; other answers {others}"
    print(f"  [{kind} HTTP] distinct numbers {distinct}, 201 answers {created}: {verdict}", flush=True)
    return row


# --------------------------------------------------------------------------------------------
# Report


def machine_line(with_pg: bool) -> str:
    cpu = cpu_model()
    pg = "unreachable"
    if with_pg:
        with contextlib.suppress(Exception):
            pg = pg_version()
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}; PostgreSQL {pg}"
    )


def load_average() -> str:
    """The 1/5/15-minute load average: the figures mean little on a busy machine."""
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


HEADERS = ["what", "database", "threads", "ops", "seconds", "ops/s", "p50 ms", "p95 ms", "p99 ms", "notes"]


def cells(row: Row) -> list[str]:
    if row.skipped:
        return [row.what, row.database, str(row.threads), "-", "-", "SKIPPED", "-", "-", "-", row.skipped]
    note = row.note
    if row.errors:
        errors = ", ".join(f"{name} x{n}" for name, n in row.errors.most_common())
        note = f"{note}; ERRORS: {errors}" if note else f"ERRORS: {errors}"
    return [
        row.what,
        row.database,
        str(row.threads),
        str(row.ops),
        f"{row.seconds:.2f}",
        f"{row.rate:.0f}",
        f"{row.percentile_ms(50):.1f}",
        f"{row.percentile_ms(95):.1f}",
        f"{row.percentile_ms(99):.1f}",
        note,
    ]


def text_table(rows: list[Row]) -> str:
    table = [HEADERS, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    numeric = {2, 3, 4, 5, 6, 7, 8}

    def fmt(line: list[str]) -> str:
        padded = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([fmt(HEADERS), fmt(["-" * w for w in widths]), *(fmt(c) for c in table[1:])])


def markdown_table(rows: list[Row]) -> str:
    align = ["---", "---", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "---"]
    lines = ["| " + " | ".join(HEADERS) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in cells(r)) + " |" for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run of every row")
    parser.add_argument(
        "--tickets",
        type=int,
        default=None,
        help="tickets per issue row (default 1000; --quick 40); call and HTTP rows do half as many",
    )
    parser.add_argument(
        "--http-tickets", type=int, default=None, help="tickets per HTTP row (default: --tickets / 2)"
    )
    args = parser.parse_args(argv)
    tickets = args.tickets or (40 if args.quick else 1000)
    http_tickets = args.http_tickets or max(tickets // 2, HTTP_CLIENTS)
    calls = tickets // 2  # two issue rows leave 2 x tickets waiting; two call rows take half of them
    began = time.perf_counter()
    started_at = datetime.now(UTC).astimezone()

    why_no_pg = pg_unavailable(pg_base_url())  # checks the host is local before connecting
    machine = machine_line(with_pg=not why_no_pg)
    load_before = load_average()
    print(f"Machine: {machine}")
    print(f"Load average (1/5/15 min) at start: {load_before}")
    print(f"Date: {started_at:%Y-%m-%d %H:%M %Z}")
    print(f"Counts: {tickets} tickets per issue row, {calls} calls per call row, {http_tickets} per HTTP row")
    if why_no_pg:
        print(f"\n!!!!! SKIPPED: every PostgreSQL row: {why_no_pg} !!!!!\n", flush=True)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="qms-bench-logs-") as tmp:
        for kind in ("SQLite", "PostgreSQL"):
            if kind == "PostgreSQL" and why_no_pg:
                for what, threads in [
                    ("issue (in-process)", 1),
                    ("issue (in-process)", 8),
                    ("call-next + finish (in-process)", 1),
                    ("call-next + finish (in-process)", 8),
                    ("issue over HTTP (gunicorn)", HTTP_CLIENTS),
                ]:
                    rows.append(Row(what=what, database=kind, threads=threads, skipped=why_no_pg))
                continue
            print(f"{kind}: in-process ...", flush=True)
            with database(kind) as url:
                rows += in_process(kind, url, tickets, calls)
            print(f"{kind}: over HTTP ...", flush=True)
            with database(kind) as url:
                rows.append(over_http(kind, url, http_tickets, Path(tmp)))

    elapsed = time.perf_counter() - began
    load = f"load average at start {load_before}, at end {load_average()}"
    print()
    print(text_table(rows))
    print(f"\nTotal run time {elapsed:.0f} s; {load}.")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        f"# Engine benchmark\n\n"
        f"Machine: {machine}  \nDate: {started_at:%Y-%m-%d %H:%M %Z}  \n"
        f"Command: `{' '.join(['bench/engine_bench.py', *(argv if argv is not None else sys.argv[1:])])}` "
        f"({tickets} tickets per issue row, {calls} calls per call row, {http_tickets} per HTTP row; "
        f"run took {elapsed:.0f} s; {load})\n\n"
        f"{markdown_table(rows)}\n"
    )
    print(f"Written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
