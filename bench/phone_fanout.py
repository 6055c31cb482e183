#!/usr/bin/env python3
"""Phones: a call reaching every affected visitor's phone, over two processes + Redis (issue 12, item 5).

``--phones`` tickets are taken before the run (in-process, on a fresh PostgreSQL schema, across
services A, B and D, which share counters 1 and 2 in the demo hall), and one phone per ticket
joins its ticket's room (and with it its service's room) as the phone page does, alternating
between two server processes that share events through a private Redis.  Then ``--calls``
calls are made on the first process, each a call-next at counter 1 and its finish: every call
moves every waiting ticket one place, so every phone is affected (the called one hears
``ticket:update``, every other ``ticket:position``).  A phone's latency for a call is from
sending call-next to its first such event after it; a phone that hears nothing before the
call's finish is sent counts as missed.  Per server worker: RSS and threads before the phones
join and once they have.  ``--async-modes threading,gevent`` runs the whole set-up under
each in turn.  Nothing is asserted: this is a benchmark.  Only 127.0.0.1 is ever targeted.

Run: ``.venv/bin/python bench/phone_fanout.py --phones 10000 --async-modes gevent``
(``--phones 1000`` for a smaller run).  The table is printed and written to bench/results/phones.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.display_latency import (  # noqa: E402  (the display bench's servers, started alike)
    _gunicorn_has,
    flask_cli,
    gather_ready,
    gunicorn,
    load_average,
    machine_line,
    pg_schema,
    private_redis,
)
from bench.machine import add_server_env_option, server_settings  # noqa: E402
from tests.live import server_env  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "phones.md"
SERVICES = ("A", "B", "D")  # C, the complaints desk, needs a whole record to finish
CONNECT_CONCURRENCY = 50  # per client process
WINDOW_S = 6.0  # after a call-next, before its finish: the phones' events for the call come in here
SPARE_S = 2.0  # after the finish, before the next call


def client_process(conn: Connection, joins: list[tuple[str, str]]) -> None:
    """Entry point of a client process: one phone per (url, token); then report arrivals."""
    asyncio.run(_phones(conn, joins))


async def _phones(conn: Connection, joins: list[tuple[str, str]]) -> None:
    import socketio

    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    arrivals: list[list[float]] = [[] for _ in joins]
    clients: list[Any] = []
    errors: list[str] = []
    joined = 0

    async def phone(index: int, url: str, token: str) -> None:
        nonlocal joined
        client = socketio.AsyncClient(reconnection=False)
        first = asyncio.Event()
        record = arrivals[index].append

        def on_event(_data: Any) -> None:
            record(time.monotonic())
            first.set()

        client.on("ticket:update", on_event)
        client.on("ticket:position", on_event)
        async with gate:
            try:
                await client.connect(url, transports=["websocket"], wait_timeout=60)
                await client.emit("join", {"room": "ticket", "token": token})
                await asyncio.wait_for(first.wait(), 120)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                return
        clients.append(client)
        joined += 1

    started = time.monotonic()
    await asyncio.gather(*(phone(i, url, token) for i, (url, token) in enumerate(joins)))
    for board in arrivals:
        board.clear()  # the joins' own events
    conn.send(("ready", joined, errors[:3], len(errors), time.monotonic() - started))
    await loop.run_in_executor(None, conn.recv)  # "stop"
    conn.send(("arrivals", arrivals))
    for chunk in range(0, len(clients), 200):
        await asyncio.gather(*(c.disconnect() for c in clients[chunk : chunk + 200]), return_exceptions=True)


def take_tickets(database_url: str, count: int) -> list[str]:
    """``count`` waiting tickets of today across SERVICES (in-process: the engine's own issue)."""
    from sqlalchemy.orm import Session

    from queue_engine import issue_ticket
    from queue_engine.core.clock import Clock
    from queue_engine.core.db import make_engine

    engine, clock, tokens = make_engine(database_url), Clock(ZoneInfo("Asia/Shanghai")), []
    try:
        with Session(engine) as session:
            for i in range(count):
                tokens.append(issue_ticket(session, clock, SERVICES[i % len(SERVICES)]).token)
                session.commit()
    finally:
        engine.dispose()
    return tokens


@dataclass
class Result:
    """One run's row."""

    mode: str
    phones: int
    joined: int = 0
    join_s: float = 0.0
    calls: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    missed: int = 0
    memory: list[str] = field(default_factory=list)
    per_1000_mib: list[float] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    note: str = ""

    def percentile(self, p: float) -> float:
        """The p-th percentile (nearest rank), ms."""
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def run(mode: str, phones: int, calls: int, procs: int, redis_url: str, settings: dict[str, str]) -> Result:
    """Take the tickets, start two servers, join the phones, call, and measure."""
    result = Result(mode, phones)
    with pg_schema() as database_url, tempfile.TemporaryDirectory(prefix="qms-phones-") as tmp:
        env = server_env(database_url, QMS_REDIS_URL=redis_url, QMS_SOCKETS_PER_ADDRESS=str(phones + 100))
        flask_cli(env, "init-db")
        flask_cli(env, "seed-demo")
        token = flask_cli(env, "issue-token", "clerk1").strip().splitlines()[-1]
        tokens = take_tickets(database_url, phones)
        env.update({**settings, "QMS_ASYNC_MODE": mode})
        no_control = _gunicorn_has("--no-control-socket")
        share = phones - phones // 2
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(gunicorn(env, share, Path(tmp) / f"server-{i}.log", no_control))
                for i in range(2)
            ]
            idle = [s.memory() for s in servers]
            joins = [(servers[i % 2].url, t) for i, t in enumerate(tokens)]
            context = multiprocessing.get_context("spawn")
            pipes, children = [], []
            for k in range(procs):
                parent, child = context.Pipe()
                process = context.Process(target=client_process, args=(child, joins[k::procs]), daemon=True)
                process.start()
                pipes.append(parent)
                children.append(process)
            try:
                result.joined, failed, errors, result.join_s = gather_ready(pipes, 1800, "the phones")
                print(f"    {result.joined}/{phones} phones joined in {result.join_s:.0f} s", flush=True)
                if failed:
                    result.note += f"{failed} phones failed to join ({errors[0]}); "
                joined = [s.memory() for s in servers]
                held = (share, phones // 2)
                for (rss0, threads0), (rss1, threads1), n in zip(idle, joined, held, strict=True):
                    result.memory.append(f"{rss0:.0f} → {rss1:.0f}")
                    result.per_1000_mib.append((rss1 - rss0) / max(n, 1) * 1000)
                    result.threads.append(f"{threads0} → {threads1}")
                windows = _call(servers[0].url, token, calls)
                result.calls = len(windows)
                for pipe in pipes:
                    pipe.send("stop")
                for k, pipe in enumerate(pipes):
                    if not pipe.poll(300):
                        raise RuntimeError("a client process did not report its arrivals")
                    _, arrivals = pipe.recv()
                    for (_, phone_token), phone in zip(joins[k::procs], arrivals, strict=True):
                        called = [w[2] for w in windows]
                        # A phone whose ticket was called is affected by that call, not the later ones.
                        last = called.index(phone_token) + 1 if phone_token in called else len(windows)
                        for began, ended, _ in windows[:last]:
                            heard = [t for t in phone if began <= t < ended]
                            if heard:
                                result.latencies_ms.append((min(heard) - began) * 1000)
                            else:
                                result.missed += 1
            finally:
                for child in children:
                    child.join(timeout=120)
                    if child.is_alive():
                        child.terminate()
    return result


def _call(url: str, token: str, calls: int) -> list[tuple[float, float, str]]:
    """Make the calls at counter 1; each one's window (call-next sent, its finish sent) and the
    called ticket's token."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    windows = []
    for _ in range(calls):
        began = time.monotonic()
        called = http.post(f"{url}/api/v1/counters/1/call-next", json={}, timeout=60)
        called.raise_for_status()
        time.sleep(WINDOW_S)
        ended = time.monotonic()
        http.post(
            f"{url}/api/v1/tickets/{called.json()['ticket']['token']}/finish",
            json={"outcome": "resolved"},
            timeout=60,
        ).raise_for_status()
        windows.append((began, ended, str(called.json()["ticket"]["token"])))
        time.sleep(SPARE_S)
    return windows


HEADERS = [
    "async mode", "phones (2 processes)", "joined", "join s", "calls", "events due", "missed", "p50 ms",
    "p95 ms", "p99 ms", "max ms", "worker RSS MiB (idle → joined)", "MiB per 1000 sockets", "worker threads",
    "notes",
]  # fmt: skip


def cells(row: Result) -> list[str]:
    """A row's cells."""
    ms = [f"{row.percentile(p):.0f}" for p in (50, 95, 99, 100)]
    return [
        row.mode, str(row.phones), str(row.joined), f"{row.join_s:.0f}", str(row.calls),
        str(len(row.latencies_ms) + row.missed), str(row.missed), *ms, "; ".join(row.memory),
        " / ".join(f"{m:.1f}" for m in row.per_1000_mib), "; ".join(row.threads), row.note,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run each async mode; print and write the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--client-procs", type=int, default=None, help="default: one per 2,500 phones")
    parser.add_argument("--async-modes", default="gevent", help="threading,gevent")
    add_server_env_option(parser)
    args = parser.parse_args(argv)
    procs = args.client_procs or max(1, math.ceil(args.phones / 2500))
    machine, load_before, began = machine_line(), load_average(), time.perf_counter()
    started_at = datetime.now(UTC).astimezone()
    print(f"Machine: {machine}\nLoad average at start: {load_before}", flush=True)
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="qms-phones-redis-") as tmp,
        private_redis(Path(tmp)) as redis_url,
    ):
        for mode in [m.strip() for m in args.async_modes.split(",") if m.strip()]:
            print(f"{mode}: {args.phones} phones, {procs} client processes ...", flush=True)
            try:
                rows.append(
                    run(mode, args.phones, args.calls, procs, redis_url, server_settings(args.server_env))
                )
            except Exception as exc:
                print(f"    FAILED: {exc}", flush=True)
                rows.append(Result(mode, args.phones, note=f"FAILED: {exc}"[:300]))
    load = f"load average at start {load_before}, at end {load_average()}"
    table = [HEADERS, *(cells(r) for r in rows)]
    text = "\n".join("| " + " | ".join(c.replace("|", "/") for c in line) + " |" for line in table)
    summary = f"Run took {time.perf_counter() - began:.0f} s; {load}."
    print(f"\n{text}\n\n{summary}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(["bench/phone_fanout.py", *(argv if argv is not None else sys.argv[1:])])
    RESULTS.write_text(
        f"# Phones\n\nMachine: {machine}  \nDate: {started_at:%Y-%m-%d %H:%M %Z}  \nCommand: `{command}`\n\n"
        f"{text}\n\n{summary}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
