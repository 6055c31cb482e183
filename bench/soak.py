#!/usr/bin/env python3
"""Soak: hold board and phone sockets through a compressed working day, and watch the server.

One server as production runs it (gunicorn, gthread, one worker, a thread per WebSocket), on
SQLite, with the demo hall.  ``--boards`` display clients join the 'display' room and
``--phones`` phone clients each join the room of a ticket of their own (taken before the day
starts, across the four services), all python-socketio ``AsyncClient`` objects in one client
process.  Then ``--hours`` "hours" of a day are played, each compressed into ``--hour-seconds``
of wall time: visitors take tickets and the four counters call and finish them over HTTP at
``--rate`` operations per second.  After each hour the server worker's resident memory, its
thread count, its open file descriptors (sockets, database files) and the events the clients
received so far are read.  A server that leaks shows it as a column that keeps growing; a
healthy one is flat after the first hour.

Nothing is asserted: this is a benchmark.  Run:
``.venv/bin/python bench/soak.py`` (500 boards + 500 phones in 4 client processes, 8 hours of
30 s each at 4 operations/s, ~6 minutes),
``--quick`` for a smoke run (50 + 50 sockets, 3 hours of 10 s).  The table is printed and
written to bench/results/soak.md.  Only 127.0.0.1 is ever targeted.

To say what the memory is: ``--probe`` runs the server as ``bench.soak_probe:app``, which reports
after each hour its heap (glibc's in use and free), SQLite's allocations, the Python objects by
type and the per-socket tables (a second table; every reading in bench/results/soak-probe/);
``--tracemalloc N`` adds tracemalloc snapshots (N frames) there, ``--sqlite-cache-kib N`` sets
each connection's ``PRAGMA cache_size = -N``; ``--server-env NAME=VALUE`` sets a variable for
the server alone (glibc's ``MALLOC_ARENA_MAX``, ``GLIBC_TUNABLES``); ``--http-clients N`` plays
the visitors and counters from N threads at once.  What the figures said: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.display_latency import (  # noqa: E402  (the display bench's server, started alike)
    _gunicorn_has,
    cpu_seconds,
    flask_cli,
    gunicorn,
    load_average,
    machine_line,
)
from bench.machine import add_server_env_option, server_settings  # noqa: E402
from tests.live import server_env  # noqa: E402

SERVICES = ("A", "B", "D", "A")  # C, the complaints desk, needs a whole record to finish
COUNTERS = (1, 2, 3, 4)
CONNECT_CONCURRENCY = 25
TIMEOUT_S = 10
WALL_LIMIT_S = 1800
SETTLE_S = 30
PROBE_DIR = ROOT / "bench" / "results" / "soak-probe"
DROPS: Counter[str] = Counter()  # the sockets the clients saw dropped, by reason (their latest count)
FAILURES: dict[str, int] = {}  # what failed, by answer  # the whole run ends (and says so) rather than hang


def say(text: str) -> None:
    print(text, flush=True)


# -- the clients ------------------------------------------------------------------------------


def client_process(conn: Connection, url: str, boards: int, tokens: list[str]) -> None:
    """Entry point of the client process: connect every socket, then answer counts until told to stop."""
    asyncio.run(_clients(conn, url, boards, tokens))


async def _clients(conn: Connection, url: str, boards: int, tokens: list[str]) -> None:
    import logging

    import socketio

    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" per close

    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    counts = {
        "display:call": 0,
        "display:snapshot": 0,
        "ticket:update": 0,
        "ticket:position": 0,
        "queue:calls": 0,
        "other": 0,
    }
    drops: list[str] = []
    errors: list[str] = []
    clients: list[Any] = []

    def count(name: str) -> Any:
        def handler(*_args: Any) -> None:
            counts[name if name in counts else "other"] += 1

        return handler

    async def open_one(join: dict[str, Any]) -> None:
        client = socketio.AsyncClient(reconnection=False)
        for name in counts:
            client.on(name, count(name))
        client.on("disconnect", lambda *reason: drops.append(str(reason[0]) if reason else "?"))
        async with gate:
            try:
                await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT_S)
                await client.emit("join", join)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                with contextlib.suppress(Exception):
                    await client.disconnect()
                return
        clients.append(client)

    joins = [{"room": "display"}] * boards + [{"room": "ticket", "token": t} for t in tokens]
    started = time.monotonic()
    await asyncio.gather(*(open_one(join) for join in joins))
    conn.send(("ready", len(clients), errors[:3], len(errors), time.monotonic() - started))
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "count":
            conn.send(("counts", dict(counts), dict(Counter(drops))))
            continue
        break
    for chunk in range(0, len(clients), 100):
        await asyncio.gather(*(c.disconnect() for c in clients[chunk : chunk + 100]), return_exceptions=True)
    conn.send(("closed",))


# -- the server's side ------------------------------------------------------------------------


def worker_pid(master: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if f"\nPPid:\t{master}\n" in (entry / "status").read_text():
                    return int(entry.name)
    return None


@dataclass
class Reading:
    """What the worker holds at one moment."""

    rss_mib: float
    anon_mib: float  # the heap and stacks (RSS less the mapped files: code, shared libraries)
    threads: int
    fds: int
    sockets: int
    db_files: int
    cpu_s: float


def read_worker(pid: int | None) -> Reading:
    if pid is None:
        return Reading(float("nan"), float("nan"), 0, 0, 0, 0, 0.0)
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    fds = sockets = db_files = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            fds += 1
            sockets += target.startswith("socket:")
            db_files += ".sqlite3" in target
    return Reading(
        int(status["VmRSS"].split()[0]) / 1024,
        int(status["RssAnon"].split()[0]) / 1024,
        int(status["Threads"]),
        fds,
        sockets,
        db_files,
        cpu_seconds(pid),
    )


class Probe:
    """The probe in the server (bench.soak_probe): one JSON reading per ``read``."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.path = PROBE_DIR / "probe.jsonl"
        self.readings: list[dict[str, Any]] = []

    def read(self, label: str) -> dict[str, Any]:
        if self.pid is None:
            return {}
        (PROBE_DIR / "probe.jsonl.label").write_text(label)
        before = len(self.readings)
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.2)
            with contextlib.suppress(OSError, ValueError):
                lines = self.path.read_text().splitlines()
                if len(lines) > before and lines[-1].endswith("}"):
                    self.readings = [json.loads(line) for line in lines]
                    return self.readings[-1]
        raise RuntimeError("the server's probe did not answer within 120 s")


PROBE_HEADER = (
    "| reading | RSS MiB | anon MiB | stacks MiB | malloc in use MiB | malloc free MiB | SQLite MiB | "
    "Python objects | pymalloc blocks | traced MiB | compiled cache | database MiB | per-socket tables |\n"
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
)


PER_SOCKET = (  # the tables that hold an entry per socket, room or published event
    "sio.environ",
    "manager.rooms[*]",
    "manager.eio_to_sid",
    "manager.callbacks",
    "eio.sockets",
    "qms_sockets.address_of",
    "qms_heartbeats.last_heard",
    "qms_change_watcher.published",
)


def format_probe(found: dict[str, Any]) -> str:
    tables = ", ".join(
        f"{key.split('.', 1)[-1]} {value}" for key, value in found.items() if key in PER_SOCKET and value
    )
    traced = found.get("traced", float("nan"))
    return (
        f"| {found['label']} | {found['VmRSS']:.1f} | {found['RssAnon']:.1f} | {found['stacks']:.1f} | "
        f"{found['malloc_in_use']:.1f} | {found['malloc_free']:.1f} | {found['sqlite_used']:.2f} | "
        f"{found['gc_objects']:,} | {found['pymalloc_blocks']:,} | {traced:.1f} | "
        f"{found['compiled_cache']} | {found['db_mib']:.2f} | {tables} |"
    )


# -- the day ----------------------------------------------------------------------------------


@dataclass
class HourRow:
    hour: int
    issued: int
    called: int
    failed: int
    reading: Reading
    events: int
    drops: int
    load: float  # the machine's 1-minute load average at the reading


def note(what: str) -> None:
    FAILURES[what] = FAILURES.get(what, 0) + 1


def play_hours(
    url: str, headers: dict[str, str], seconds: float, rate: float, clients: int
) -> tuple[int, int, int]:
    """``play_hour`` from ``clients`` threads at once, each with its own counters: the totals."""
    if clients == 1:
        return play_hour(url, headers, seconds, rate, COUNTERS)
    with ThreadPoolExecutor(clients) as pool:
        done = list(
            pool.map(
                lambda i: play_hour(
                    url, headers, seconds, rate / clients, COUNTERS[i % 4 :: clients] or COUNTERS
                ),
                range(clients),
            )
        )
    return sum(d[0] for d in done), sum(d[1] for d in done), sum(d[2] for d in done)


def play_hour(
    url: str, headers: dict[str, str], seconds: float, rate: float, counters: tuple[int, ...]
) -> tuple[int, int, int]:
    """Visitors take tickets and the counters call and finish them, for ``seconds``."""
    http = requests.Session()
    issued = called = failed = 0
    step = 1.0 / rate
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
        try:
            if n % 2:
                answer = http.post(
                    f"{url}/api/v1/tickets", json={"service": SERVICES[n % 4]}, timeout=TIMEOUT_S
                )
                issued += answer.status_code == 201
                if answer.status_code != 201:
                    failed += 1
                    FAILURES[f"issue {answer.status_code}"] = (
                        FAILURES.get(f"issue {answer.status_code}", 0) + 1
                    )
            else:
                counter = counters[(n // 2) % len(counters)]
                answer = http.post(
                    f"{url}/api/v1/counters/{counter}/call-next", json={}, headers=headers, timeout=TIMEOUT_S
                )
                if answer.status_code == 200:
                    called += 1
                    token = answer.json()["ticket"]["token"]
                    done = http.post(
                        f"{url}/api/v1/tickets/{token}/finish",
                        json={"outcome": "resolved"},
                        headers=headers,
                        timeout=TIMEOUT_S,
                    )
                    if done.status_code != 200:
                        failed += 1
                        FAILURES[f"finish {done.status_code}"] = (
                            FAILURES.get(f"finish {done.status_code}", 0) + 1
                        )
                elif answer.status_code != 204:
                    failed += 1
                    note(f"call {answer.status_code}")
        except requests.RequestException:
            failed += 1
        time.sleep(step)
    return issued, called, failed


def run(args: argparse.Namespace, workdir: Path) -> tuple[list[HourRow], Reading, Reading, str, list[str]]:
    env = server_env(
        f"sqlite:///{workdir / 'soak.sqlite3'}",
        QMS_SOCKETS_PER_ADDRESS=str(args.boards + args.phones + 100),
    )
    probing = args.probe or args.tracemalloc or args.sqlite_cache_kib
    if probing:
        shutil.rmtree(PROBE_DIR, ignore_errors=True)
        PROBE_DIR.mkdir(parents=True)
        env["QMS_SOAK_PROBE"] = str(PROBE_DIR / "probe.jsonl")
    if args.tracemalloc:
        env["QMS_SOAK_TRACEMALLOC"] = str(args.tracemalloc)
    if args.sqlite_cache_kib:
        env["QMS_SOAK_SQLITE_CACHE_KIB"] = str(args.sqlite_cache_kib)
    env.update(server_settings(args.server_env))
    flask_cli(env, "init-db")
    flask_cli(env, "seed-demo")
    token = flask_cli(env, "issue-token", "supervisor").strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    app = "bench.soak_probe:app" if probing else "kiosk.wsgi:app"
    with gunicorn(
        env, args.boards + args.phones, workdir / "server.log", _gunicorn_has("--no-control-socket"), app
    ) as server:
        pid = worker_pid(server.process.pid)
        probe = Probe(pid if probing else None)
        probed: list[str] = []
        idle = read_worker(pid)
        if probing:
            probed.append(format_probe(probe.read("before the sockets")))
        say(f"server up: worker {pid}, {idle.rss_mib:.0f} MiB, {idle.threads} threads")
        http = requests.Session()
        tokens = []
        for n in range(args.phones):
            answer = http.post(
                f"{server.url}/api/v1/tickets", json={"service": SERVICES[n % 4]}, timeout=TIMEOUT_S
            )
            answer.raise_for_status()
            tokens.append(answer.json()["token"])
        say(f"{len(tokens)} phone tickets taken; connecting {args.boards} boards + {args.phones} phones")
        pipes, procs = [], []
        n = args.client_procs
        for i in range(n):
            parent, child = multiprocessing.Pipe()
            share = (args.boards * (i + 1)) // n - (args.boards * i) // n
            mine = tokens[(len(tokens) * i) // n : (len(tokens) * (i + 1)) // n]
            proc = multiprocessing.get_context("spawn").Process(
                target=client_process, args=(child, server.url, share, mine), daemon=True
            )
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        connected, error_count, took, first_error = 0, 0, 0.0, ""
        for parent in pipes:
            if not parent.poll(300):
                raise RuntimeError("the clients did not connect within 300 s")
            _, ok, errors, failed, seconds = parent.recv()
            connected, error_count, took = connected + ok, error_count + failed, max(took, seconds)
            first_error = first_error or (f": {errors[0]}" if errors else "")
        say(f"{connected} sockets connected in {took:.1f} s ({error_count} failed{first_error})")
        rows: list[HourRow] = []
        connected_reading = read_worker(pid)
        if probing:
            probed.append(format_probe(probe.read("connected")))
        for hour in range(1, args.hours + 1):
            issued, called, failed = play_hours(
                server.url, headers, args.hour_seconds, args.rate, args.http_clients
            )
            time.sleep(1.0)  # let the last events arrive
            events = drops = 0
            DROPS.clear()
            for parent in pipes:
                parent.send("count")
                if not parent.poll(60):
                    raise RuntimeError("the clients stopped answering")
                _, counts, reasons = parent.recv()
                events, drops = events + sum(counts.values()), drops + sum(reasons.values())
                DROPS.update(reasons)
            row = HourRow(hour, issued, called, failed, read_worker(pid), events, drops, os.getloadavg()[0])
            rows.append(row)
            say(format_row(row))
            if probing:
                probed.append(format_probe(probe.read(f"hour {hour}")))
                say(probed[-1])
        for parent in pipes:
            parent.send("stop")
        for parent, proc in zip(pipes, procs, strict=True):
            parent.poll(120)
            proc.join(30)
            if proc.is_alive():
                proc.kill()
        time.sleep(2.0)
        after = read_worker(pid)
        if probing:
            probed.append(format_probe(probe.read("closed")))
            time.sleep(SETTLE_S)  # python-engineio drops a closed socket within a ping timeout
            probed.append(format_probe(probe.read(f"closed +{SETTLE_S} s")))
        tail = (workdir / "server.log").read_text(errors="replace")
        errors_logged = tail.count("Traceback")
    return rows, connected_reading, after, f"{errors_logged} tracebacks in the server log", probed


def format_row(row: HourRow) -> str:
    r = row.reading
    return (
        f"| {row.hour} | {row.issued} | {row.called} | {row.failed} | {r.rss_mib:.1f} | {r.anon_mib:.1f} | "
        f"{r.threads} | {r.fds} | {r.sockets} | {r.db_files} | {r.cpu_s:.1f} | {row.events} | {row.drops} | "
        f"{row.load:.1f} |"
    )


HEADER = (
    "| hour | issued | called | failed | RSS MiB | anon MiB | threads | fds | sockets | db files | CPU s | "
    "events received (total) | sockets dropped | load |\n" + "|--:" * 14 + "|"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boards", type=int, default=500)
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--hours", type=int, default=8)
    parser.add_argument("--hour-seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=4.0, help="HTTP operations per second")
    parser.add_argument(
        "--http-clients", type=int, default=1, help="threads playing the visitors and counters at once"
    )
    parser.add_argument("--client-procs", type=int, default=4, help="client processes the sockets share")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--probe", action="store_true", help="the server reports what its memory holds")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES", help="and snapshots (probes)")
    parser.add_argument("--sqlite-cache-kib", type=int, default=0, help="PRAGMA cache_size = -N")
    add_server_env_option(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.boards, args.phones, args.hours, args.hour_seconds = 50, 50, 3, 10.0
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("soak ran too long")))
    signal.alarm(WALL_LIMIT_S)
    say(f"soak: {args.boards} boards + {args.phones} phones, {args.hours} hours of {args.hour_seconds:.0f} s")
    say(machine_line())
    start_load = load_average()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="qms-soak-") as folder:
        rows, connected, after, log_note, probed = run(args, Path(folder))
    knobs = {
        "tracemalloc frames": args.tracemalloc,
        "SQLite cache_size KiB": args.sqlite_cache_kib,
        **server_settings(args.server_env),
    }
    lines = [
        f"Machine: {machine_line()}",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average at start {start_load}, "
        f"at end {load_average()}; took {time.monotonic() - started:.0f} s",
        f"{args.boards} boards + {args.phones} phones; {args.hours} hours of {args.hour_seconds:.0f} s at "
        f"{args.rate:.0f} HTTP operations/s from {args.http_clients} HTTP client(s); "
        f"clients in {args.client_procs} processes; "
        f"server knobs: {', '.join(f'{k} {v}' for k, v in knobs.items() if v) or 'none (as production)'}",
        "",
        f"Once connected: {connected.rss_mib:.1f} MiB, {connected.threads} threads, {connected.fds} fds",
        "",
        HEADER,
        *(format_row(r) for r in rows),
        "",
        f"After the sockets closed: {after.rss_mib:.1f} MiB, {after.threads} threads, {after.fds} fds "
        f"({after.sockets} sockets, {after.db_files} database files); {log_note}",
        f"Failed operations by answer: {FAILURES or 'none'}; "
        f"sockets dropped by reason: {dict(DROPS) or 'none'}",
    ]
    if len(rows) >= 2:
        first, last = rows[0].reading, rows[-1].reading
        lines.append(
            f"From hour 1 to hour {rows[-1].hour}: RSS {last.rss_mib - first.rss_mib:+.1f} MiB, threads "
            f"{last.threads - first.threads:+d}, fds {last.fds - first.fds:+d}"
        )
    if probed:
        lines += ["", "The server's probe (bench.soak_probe):", "", PROBE_HEADER, *probed]
    report = "\n".join(lines)
    say("\n" + report)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "soak.md").write_text(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
