#!/usr/bin/env python3
"""How long a call takes to reach every display board, and what the boards cost the server.

N Socket.IO display clients (WebSocket transport, as the boards use) join the 'display' room;
then M calls are made over HTTP, one every ~0.5 s: take a ticket, call-next at counter 1,
finish.  For each call, the latency is the time from sending the call-next request to the
'display:call' event's arrival at a client, for every client; a client that never gets a
call's event counts as one missed event.  Nothing is asserted: this is a benchmark.

Two set-ups, each for every N of ``--clients`` (default 100 and 1000):

* one process on SQLite (no message queue);
* two processes on PostgreSQL sharing events through Redis; the clients alternate between the
  processes and the calls go to the first, so half the boards hear every call through Redis.

The servers run as production runs them (gunicorn, gthread, one worker) with ``--threads``
= clients on that process + 64, because in threading mode each open WebSocket holds one
gunicorn thread, and ``--worker-connections`` above that (gthread stops accepting at 1000
connections by default).  The clients are python-socketio ``AsyncClient`` objects in one or two
asyncio processes (``--client-procs``), so the client side is not the bottleneck.  The server
worker's resident memory (RSS) and thread count are read from /proc before the clients
connect, once they are connected, and at their peak during the calls.

PostgreSQL: ``QMS_BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
in a fresh schema created and dropped by the run.  Redis: a private ``redis-server`` on a free
port, started and stopped by the run, so that the fake calls never reach real boards on a
shared Redis (``--redis-url`` to use another, local one).  Only 127.0.0.1 is ever targeted.

Run: ``.venv/bin/python bench/display_latency.py`` (needs aiohttp for the asyncio client);
``--quick`` for a smoke run; ``--clients 100,1000``; ``--calls 20``.  The table is printed and
written to bench/results/display.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import add_server_env_option, cpu_model, server_settings  # noqa: E402
from queue_engine.core.db import sqlalchemy_url  # noqa: E402
from tests.live import free_port, server_env  # noqa: E402  (the servers the tests start, started alike)
from tests.services import fresh_schema  # noqa: E402  (the schemas the tests make, made alike)

RESULTS = ROOT / "bench" / "results" / "display.md"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
SPACING_S = 0.5  # between one call's finish and the next call's ticket
GRACE_S = 3.0  # after the last call, for late events
SPARE_THREADS = 64  # for HTTP requests beside the WebSockets
CONNECT_CONCURRENCY = 25  # clients connecting at once, per client process
SETUP_ONE = "1 process, SQLite"
SETUP_TWO = "2 processes, PostgreSQL + Redis"


# --------------------------------------------------------------------------------------------
# The boards: asyncio Socket.IO clients in a child process


def client_process(conn: Connection, urls: list[str]) -> None:
    """Entry point of a client process: connect one board per URL, then report arrivals."""
    asyncio.run(_boards(conn, urls))


async def _boards(conn: Connection, urls: list[str]) -> None:
    import socketio

    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    arrivals: list[list[tuple[str, str, float]]] = [[] for _ in urls]
    clients: list[Any] = []
    connected: list[int] = []
    errors: list[str] = []
    drops: list[str] = []

    async def open_board(index: int, url: str) -> None:
        client = socketio.AsyncClient(reconnection=False)
        joined = asyncio.Event()
        record = arrivals[index].append

        def on_call(data: dict[str, Any]) -> None:
            record((str(data.get("number")), str(data.get("counter")), time.monotonic()))

        def on_disconnect(*reason: Any) -> None:
            drops.append(str(reason[0]) if reason else "?")

        client.on("display:call", on_call)
        client.on("display:snapshot", lambda _data: joined.set())
        client.on("disconnect", on_disconnect)
        async with gate:
            try:
                await client.connect(url, transports=["websocket"], wait_timeout=60)
                await client.emit("join", {"room": "display"})
                await asyncio.wait_for(joined.wait(), 60)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                with contextlib.suppress(Exception):
                    await client.disconnect()
                return
        clients.append(client)
        connected.append(index)

    started = time.monotonic()
    await asyncio.gather(*(open_board(i, url) for i, url in enumerate(urls)))
    drops.clear()  # only disconnects while measuring count
    conn.send(("ready", len(connected), errors[:3], len(errors), time.monotonic() - started))
    await loop.run_in_executor(None, conn.recv)  # "stop"
    conn.send(("arrivals", [arrivals[i] for i in sorted(connected)], list(drops)))
    for chunk in range(0, len(clients), 100):
        await asyncio.gather(*(c.disconnect() for c in clients[chunk : chunk + 100]), return_exceptions=True)


# --------------------------------------------------------------------------------------------
# Servers, databases, Redis


def local_only(url: str, what: str) -> None:
    """Refuse any host but this machine."""
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"the bench only targets 127.0.0.1, not {host!r} ({what})")


def pg_base_url() -> str:
    """The PostgreSQL URL, in SQLAlchemy's psycopg form."""
    url = os.environ.get("QMS_BENCH_DATABASE_URL", DEFAULT_PG)
    local_only(url, "QMS_BENCH_DATABASE_URL")
    return sqlalchemy_url(url)


def pg_unavailable() -> str:
    """Why PostgreSQL cannot be used ('' when it can)."""
    import sqlalchemy as sa

    engine = sa.create_engine(pg_base_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:
        return f"PostgreSQL not reachable: {type(exc).__name__}"
    finally:
        engine.dispose()
    return ""


def pg_schema() -> contextlib.AbstractContextManager[str]:
    """A URL whose connections use a fresh schema, dropped (with everything in it) afterwards."""
    return fresh_schema(pg_base_url())


@contextlib.contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    """A redis-server of our own on a free 127.0.0.1 port, for the run only."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found (or pass --redis-url)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not answer")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def flask_cli(env: dict[str, str], *args: str) -> str:
    """Run a Flask CLI command on the bench's database."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "kiosk", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return done.stdout


@functools.cache
def _gunicorn_has(option: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    return option in done.stdout


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process has used so far (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A gunicorn master we started, and its one worker."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pid(self) -> int | None:
        """The worker's pid (the master's child), if it runs."""
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    status = (entry / "status").read_text()
                    if f"\nPPid:\t{self.process.pid}\n" in status:
                        return int(entry.name)
        return None

    def memory(self) -> tuple[float, int]:
        """The worker's resident memory in MiB and its thread count."""
        pid = self.worker_pid()
        if pid is None:
            return math.nan, 0
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], websockets: int, log: Path, control_socket_flag: bool, app: str = "kiosk.wsgi:app"
) -> Iterator[Server]:
    """The production server on a free port: the gunicorn worker of the environment's
    ``QMS_ASYNC_MODE``, gthread with a thread for every WebSocket it will hold, or gevent."""
    port = free_port()
    threads = websockets + SPARE_THREADS
    if env.get("QMS_ASYNC_MODE") == "gevent":  # a greenlet per connection, no thread per socket
        worker = ["--worker-class", "gevent", "--worker-connections", str(websockets + 1000)]
    else:
        worker = ["--worker-class", "gthread", "--threads", str(threads)]
        worker += ["--worker-connections", str(max(1000, threads + 256))]
    command = [
        sys.executable, "-m", "gunicorn", *worker, "--workers", "1",
        "--graceful-timeout", "2", "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    if control_socket_flag:
        command.append("--no-control-socket")  # two masters would share ~/.gunicorn/gunicorn.ctl
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, app],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{server.url}/api/v1/services", timeout=2).ok:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield server
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started and its children (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for _ in range(50):  # the worker may outlive the master for a moment
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# One run


@dataclass
class Result:
    """One row of the table."""

    setup: str
    clients: int
    calls: int = 0
    connected: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    missed: int = 0
    call_http_ms: list[float] = field(default_factory=list)
    issue_http_ms: list[float] = field(default_factory=list)
    memory: list[str] = field(default_factory=list)  # per server: "idle -> connected -> peak MiB"
    rss_per_1000_mib: float = math.nan  # growth of one worker per 1000 boards it holds
    threads_per_board: float = math.nan
    threads: list[int] = field(default_factory=list)
    server_cpu_pct: list[float] = field(default_factory=list)  # per worker, while calling
    client_cpu_pct: float = 0.0  # all client processes together, while calling
    connect_s: float = 0.0
    note: str = ""
    skipped: str = ""

    @property
    def expected(self) -> int:
        """Events that should have arrived: one per call per connected client."""
        return self.calls * self.connected

    def percentile(self, p: float) -> float:
        """The p-th percentile (nearest rank) of the latencies, in ms."""
        return nearest_rank(self.latencies_ms, p)


def nearest_rank(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values`` (NaN when there are none)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def run_setup(
    setup: str,
    clients: int,
    calls: int,
    client_procs: int,
    redis_url: str | None,
    workdir: Path,
    settings: dict[str, str] | None = None,
) -> Result:
    """Start the servers, connect the boards, make the calls, and measure."""
    result = Result(setup, clients)
    two = setup == SETUP_TWO
    (workdir / "display.sqlite3").unlink(missing_ok=True)
    database = pg_schema() if two else contextlib.nullcontext(f"sqlite:///{workdir / 'display.sqlite3'}")
    with database as database_url:
        env = server_env(database_url, **({"QMS_REDIS_URL": redis_url} if two and redis_url else {}))
        env["QMS_SOCKETS_PER_ADDRESS"] = str(clients + 100)  # every board comes from 127.0.0.1
        flask_cli(env, "init-db")
        env.update(settings or {})  # the servers' alone, not the set-up commands
        flask_cli(env, "seed-demo")
        token = flask_cli(env, "issue-token", "clerk1").strip().splitlines()[-1]
        shares = [clients - clients // 2, clients // 2] if two else [clients]
        no_control = _gunicorn_has("--no-control-socket")
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(gunicorn(env, share, workdir / f"server-{i}.log", no_control))
                for i, share in enumerate(shares)
            ]
            idle = [s.memory() for s in servers]
            _measure(result, servers, idle, token, calls, client_procs)
    return result


def _measure(
    result: Result,
    servers: list[Server],
    idle: list[tuple[float, int]],
    token: str,
    calls: int,
    client_procs: int,
) -> None:
    urls = [servers[i % len(servers)].url for i in range(result.clients)]
    procs = max(1, min(client_procs, result.clients))
    context = multiprocessing.get_context("spawn")
    pipes, children = [], []
    for k in range(procs):
        parent, child = context.Pipe()
        process = context.Process(target=client_process, args=(child, urls[k::procs]), daemon=True)
        process.start()
        pipes.append(parent)
        children.append(process)
    try:
        result.connected, failed, errors, result.connect_s = gather_ready(pipes, 600, "the boards")
        print(f"    {result.connected}/{result.clients} joined in {result.connect_s:.1f} s", flush=True)
        if failed:
            result.note += f"{failed} boards failed to connect ({errors[0]}); "
        connected = [s.memory() for s in servers]
        peak = list(connected)
        workers = [s.worker_pid() for s in servers]
        cpu_before = [cpu_seconds(pid) for pid in workers], [cpu_seconds(c.pid) for c in children]
        calls_began = time.monotonic()
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        first = servers[0].url
        sent: list[tuple[str, float]] = []
        for _ in range(calls):
            issuing = time.monotonic()
            ticket = http.post(f"{first}/api/v1/tickets", json={"service": "A"}, timeout=60)
            result.issue_http_ms.append((time.monotonic() - issuing) * 1000)
            ticket.raise_for_status()
            number = ticket.json()["number"]
            began = time.monotonic()
            called = http.post(f"{first}/api/v1/counters/1/call-next", json={}, timeout=60)
            result.call_http_ms.append((time.monotonic() - began) * 1000)
            if called.status_code != 200 or called.json()["ticket"]["number"] != number:
                raise RuntimeError(f"call-next answered {called.status_code}: {called.text[:200]}")
            sent.append((number, began))
            http.post(
                f"{first}/api/v1/tickets/{ticket.json()['token']}/finish",
                json={"outcome": "resolved"},
                timeout=60,
            ).raise_for_status()
            peak = [max(p, s.memory(), key=lambda m: m[0]) for p, s in zip(peak, servers, strict=True)]
            time.sleep(SPACING_S)
        wall = time.monotonic() - calls_began
        result.server_cpu_pct = [
            (cpu_seconds(pid) - before) / wall * 100
            for pid, before in zip(workers, cpu_before[0], strict=True)
        ]
        result.client_cpu_pct = (
            sum(cpu_seconds(c.pid) - before for c, before in zip(children, cpu_before[1], strict=True))
            / wall
            * 100
        )
        time.sleep(GRACE_S)
        drops: list[str] = []
        for pipe in pipes:
            pipe.send("stop")
        for pipe in pipes:
            if not pipe.poll(120):
                raise RuntimeError("a client process did not report its arrivals")
            _, arrivals, dropped = pipe.recv()
            drops += dropped
            for board in arrivals:
                _score(result, board, sent)
        result.calls = len(sent)
        if drops:
            reasons = ", ".join(f"{n}x {why}" for why, n in Counter(drops).most_common())
            result.note += f"{len(drops)} boards disconnected while measuring ({reasons}); "
        for (rss0, threads0), (rss1, threads1), (rss2, threads), server_clients in zip(
            idle, connected, peak, _shares(result.clients, len(servers)), strict=True
        ):
            result.memory.append(f"{rss0:.0f} → {rss1:.0f} → {rss2:.0f}")
            result.threads.append(threads)
            if server_clients and math.isnan(result.rss_per_1000_mib):  # the first server's
                result.rss_per_1000_mib = (rss1 - rss0) / server_clients * 1000
                result.threads_per_board = (threads1 - threads0) / server_clients
    finally:
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.terminate()


def gather_ready(pipes: list[Connection], timeout_s: float, who: str) -> tuple[int, int, list[str], float]:
    """The client processes' "ready" reports once their sockets have joined: how many joined and
    failed in all, the first errors, and the slowest process's seconds."""
    joined = failed = 0
    errors: list[str] = []
    slowest = 0.0
    for pipe in pipes:
        if not pipe.poll(timeout_s):
            raise RuntimeError(f"{who} did not connect within {timeout_s:.0f} s")
        _, ok, first_errors, failures, seconds = pipe.recv()
        joined += ok
        failed += failures
        errors += first_errors
        slowest = max(slowest, seconds)
    return joined, failed, errors, slowest


def _shares(clients: int, servers: int) -> list[int]:
    return [clients - clients // 2, clients // 2] if servers == 2 else [clients]


def _score(result: Result, board: list[tuple[str, str, float]], sent: list[tuple[str, float]]) -> None:
    """One board's latency for each call; a call whose event never came is a missed event."""
    for number, began in sent:
        arrived = [t for n, counter, t in board if n == number and counter == "1" and t >= began]
        if arrived:
            result.latencies_ms.append((min(arrived) - began) * 1000)
        else:
            result.missed += 1


# --------------------------------------------------------------------------------------------
# Report


def machine_line() -> str:
    """CPU model, cores, memory and Python."""
    cpu = cpu_model()
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:", 1)[1].split()[0])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return f"{cpu}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}"


def load_average() -> str:
    """The 1/5/15-minute load average: the figures mean little on a busy machine."""
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


HEADERS = [
    "setup", "boards", "calls", "events", "missed", "p50 ms", "p95 ms", "p99 ms", "max ms",
    "call-next HTTP p50 ms", "issue / call-next HTTP p99 ms", "worker RSS MiB (idle → boards joined → peak)",
    "worker threads",
    "CPU % while calling (workers; boards)", "notes",
]  # fmt: skip


def cells(row: Result) -> list[str]:
    """A row's cells."""
    if row.skipped:
        return [row.setup, str(row.clients), *["-"] * (len(HEADERS) - 3), row.skipped]
    ms = [f"{row.percentile(p):.0f}" for p in (50, 95, 99, 100)]
    http = f"{statistics.median(row.call_http_ms):.0f}" if row.call_http_ms else "-"
    tails = " / ".join(f"{nearest_rank(times, 99):.0f}" for times in (row.issue_http_ms, row.call_http_ms))
    note = row.note + f"boards joined in {row.connect_s:.0f} s"
    if row.connected < row.clients:
        note = f"{row.connected}/{row.clients} boards joined; " + note
    return [
        row.setup, str(row.clients), str(row.calls), str(row.expected), str(row.missed), *ms, http, tails,
        "; ".join(row.memory), " / ".join(str(t) for t in row.threads),
        " + ".join(f"{c:.0f}" for c in row.server_cpu_pct) + f"; {row.client_cpu_pct:.0f}", note,
    ]  # fmt: skip


def text_table(rows: list[Result]) -> str:
    """The table for a terminal."""
    table = [HEADERS, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in table)


def markdown_table(rows: list[Result]) -> str:
    """The table for bench/results/display.md."""
    align = ["---", *["--:"] * 9, "---", "---", "--:", "---", "---"]
    lines = ["| " + " | ".join(HEADERS) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def memory_summary(rows: list[Result]) -> str:
    """What one worker's memory grows by per 1000 boards, from each async mode's largest
    one-process run."""
    measured = [r for r in rows if not r.skipped and not math.isnan(r.rss_per_1000_mib) and r.connected]
    lines = []
    for mode in dict.fromkeys(r.setup.rsplit(", ", 1)[-1] for r in measured):
        largest = max(
            (r for r in measured if r.setup.endswith(f", {mode}")),
            key=lambda r: (r.setup.startswith(SETUP_ONE), r.clients),
        )
        per_board = f"{largest.threads_per_board:.1f} threads per board"
        if mode == "threading":
            per_board += ", one of them a gunicorn pool thread"
        lines.append(
            f"Memory ({mode}): a worker's RSS grows by about {largest.rss_per_1000_mib:.0f} MiB per 1000 "
            f"joined boards and {per_board} (from the {largest.setup} run with {largest.clients} boards)."
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run every set-up for every number of boards; print and write the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="20 boards, 5 calls: a smoke run")
    parser.add_argument("--clients", default=None, help="numbers of boards, comma-separated: 100,1000")
    parser.add_argument("--calls", type=int, default=None, help="calls per run (default 20; --quick 5)")
    parser.add_argument(
        "--client-procs", type=int, default=None, help="client processes (default 1 up to 200 boards, else 2)"
    )
    parser.add_argument("--redis-url", default=None, help="a local Redis to use instead of a private one")
    parser.add_argument("--logs", type=Path, default=None, help="keep the servers' logs in this folder")
    parser.add_argument(
        "--setups", default="one,two", help="one (a process on SQLite), two (on PostgreSQL + Redis): one,two"
    )
    parser.add_argument(
        "--async-modes",
        default="threading",
        help="the servers' QMS_ASYNC_MODE, each in turn: threading (gthread), gevent (gevent worker): "
        "threading,gevent",
    )
    add_server_env_option(parser)
    args = parser.parse_args(argv)
    modes = [mode.strip() for mode in args.async_modes.split(",") if mode.strip()]
    chosen = {name.strip() for name in args.setups.split(",")}
    setups = [s for s, name in ((SETUP_ONE, "one"), (SETUP_TWO, "two")) if name in chosen]
    counts = [int(c) for c in (args.clients or ("20" if args.quick else "100,1000")).split(",") if c.strip()]
    calls = args.calls or (5 if args.quick else 20)
    if args.redis_url:
        local_only(args.redis_url, "--redis-url")
    try:
        import aiohttp  # noqa: F401  (python-socketio's AsyncClient needs it)
    except ImportError:
        raise SystemExit("aiohttp is missing: .venv/bin/pip install aiohttp") from None

    began = time.perf_counter()
    started_at = datetime.now(UTC).astimezone()
    machine, load_before = machine_line(), load_average()
    print(f"Machine: {machine}")
    print(f"Load average (1/5/15 min) at start: {load_before}")
    print(f"Date: {started_at:%Y-%m-%d %H:%M %Z}; boards {counts}; {calls} calls per run", flush=True)
    why_no_pg = pg_unavailable() if SETUP_TWO in setups else ""
    if why_no_pg:
        print(f"\n!!!!! SKIPPED: the two-process runs: {why_no_pg} !!!!!\n", flush=True)

    rows: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="qms-display-bench-") as tmp, contextlib.ExitStack() as stack:
        redis_url = args.redis_url
        if redis_url is None and SETUP_TWO in setups and not why_no_pg:
            redis_url = stack.enter_context(private_redis(Path(tmp)))
        for setup, mode in [(setup, mode) for setup in setups for mode in modes]:
            for clients in counts:
                if setup == SETUP_TWO and why_no_pg:
                    rows.append(Result(f"{setup}, {mode}", clients, skipped=why_no_pg))
                    continue
                procs = args.client_procs or (1 if clients <= 200 else 2)
                print(f"{setup}, {mode}, {clients} boards, {procs} client process(es) ...", flush=True)
                workdir = Path(tempfile.mkdtemp(dir=tmp))
                if args.logs:
                    workdir = args.logs / f"{'two' if setup == SETUP_TWO else 'one'}-{mode}-{clients}"
                    workdir.mkdir(parents=True, exist_ok=True)
                try:
                    settings = {**server_settings(args.server_env), "QMS_ASYNC_MODE": mode}
                    row = run_setup(setup, clients, calls, procs, redis_url, workdir, settings)
                    row.setup = f"{setup}, {mode}"
                    rows.append(row)
                except Exception as exc:
                    logs = " ".join(p.read_text()[-500:] for p in workdir.glob("*.log"))
                    print(f"    FAILED: {exc}\n    {logs}", flush=True)
                    rows.append(Result(f"{setup}, {mode}", clients, skipped=f"FAILED: {exc}"[:300]))

    elapsed = time.perf_counter() - began
    load = f"load average at start {load_before}, at end {load_average()}"
    memory = memory_summary(rows)
    print(f"\nMachine: {machine}\n")
    print(text_table(rows))
    print(f"\n{memory}\nTotal run time {elapsed:.0f} s; {load}.")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(["bench/display_latency.py", *(argv if argv is not None else sys.argv[1:])])
    RESULTS.write_text(
        "# Display latency\n\n"
        f"Machine: {machine}  \nDate: {started_at:%Y-%m-%d %H:%M %Z}  \n"
        f"Command: `{command}` ({calls} calls per run, one every ~{SPACING_S} s after the last finished; "
        f"run took {elapsed:.0f} s; {load})\n\n"
        "Latency: from sending call-next to the 'display:call' event's arrival, over every board and "
        "call. Missed: events that never arrived (of 'events' = calls x boards joined).\n\n"
        f"{markdown_table(rows)}\n\n{memory}\n"
    )
    print(f"Written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
