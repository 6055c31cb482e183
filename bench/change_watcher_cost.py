#!/usr/bin/env python3
"""What the change watcher (kiosk/realtime.py) costs: one idle look, and requests beside it.

The watcher of a server without Redis looks at two high-water marks (the newest event-log id
and audit id) every ``QMS_CHANGE_WATCH_SECONDS`` (default 1.5) in a read-only transaction (on
SQLite a deferred one: it never takes the write lock).  Measured here:

* **idle look (in-process)**: ``watch_once`` when nothing changed, on a SQLite hall holding
  ``--tickets`` issued tickets (so the event log is that long), median and p95 of 500 looks;
* **requests over HTTP (gunicorn, as production runs it)**: 8 client threads taking tickets
  (POST /api/v1/tickets) and reading the board (GET /api/v1/display), with the watcher off
  (``QMS_CHANGE_WATCH_SECONDS=0``), at its default, and looking every 20 ms (75 times as often,
  to make any cost visible).  Median and p95 latency per request.

Nothing is asserted.  Run: ``.venv/bin/python bench/change_watcher_cost.py [--requests 400]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.live import live_server, server_env  # noqa: E402


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95)]
    return f"median {statistics.median(values) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def idle_look(tickets: int) -> str:
    """Median/p95 of an idle watch_once on a hall with that many tickets."""
    import os

    folder = Path(tempfile.mkdtemp(prefix="qms-watch-"))
    os.environ.update(QMS_INSTANCE_PATH=str(folder), QMS_SECRET_KEY="bench")
    from kiosk import create_app, realtime
    from kiosk.cli.seed import seed_demo
    from kiosk.extensions import db
    from queue_engine import issue_ticket

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'hall.sqlite3'}", "TESTING": True})
    with app.app_context():
        db.create_all()
        seed_demo(db.session, None, "bench-pass-123")
        db.session.commit()
        clock = app.config["QMS_CLOCK"]
        for _ in range(tickets):
            issue_ticket(db.session, clock, "A")
        db.session.commit()
    realtime.start_change_watcher(app)
    looks = []
    for _ in range(500):
        started = time.perf_counter()
        realtime.watch_once(app)
        looks.append(time.perf_counter() - started)
    realtime.stop_change_watcher(app, timeout=0)
    return _ms(looks)


def requests_beside(interval: str, count: int) -> tuple[str, str]:
    """Latency of ticket POSTs and board GETs with the watcher looking every ``interval`` s."""
    folder = Path(tempfile.mkdtemp(prefix="qms-watch-http-"))
    env = server_env(f"sqlite:///{folder / 'hall.sqlite3'}", QMS_CHANGE_WATCH_SECONDS=interval)
    with live_server(env) as server:
        # A connection per request: gunicorn closes idle keep-alive connections after 2 s.
        def take(i: int) -> float:
            started = time.perf_counter()
            requests.post(f"{server.url}/api/v1/tickets", json={"service": "A"}, timeout=30)
            return time.perf_counter() - started

        def read(i: int) -> float:
            started = time.perf_counter()
            requests.get(f"{server.url}/api/v1/display", timeout=30)
            return time.perf_counter() - started

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(read, range(16)))  # warm up (and start the watcher with the first request)
            posts = list(pool.map(take, range(count)))
            gets = list(pool.map(read, range(count)))
    return _ms(posts), _ms(gets)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--tickets", type=int, default=2000)
    args = parser.parse_args()
    print(f"idle look, {args.tickets} tickets in the log: {idle_look(args.tickets)}")
    for label, interval in (("off", "0"), ("default 1.5 s", "1.5"), ("every 20 ms", "0.02")):
        posts, gets = requests_beside(interval, args.requests)
        print(f"watcher {label:>13}: POST /api/v1/tickets {posts}; GET /api/v1/display {gets}")


if __name__ == "__main__":
    main()
