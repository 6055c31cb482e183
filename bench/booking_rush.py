#!/usr/bin/env python3
"""Bookings opening at 8:00: 1,000 attempts in 10 seconds for 40 places, beside /healthz.

Starts our server as production does (gunicorn, one worker, gevent's unless
``QMS_ASYNC_MODE=threading``) on a temp database with the demo hall, gives service A's next slot
40 places, then fires 1,000 booking requests, each for a different phone number, paced evenly
over 10 seconds from 32 client threads (keep-alive). Prints what came back (201 booked, 409
slot_full, anything else is an error), the p50/p99 of the answers, the bookings the database
then holds for the slot (must be 40), and ``GET /healthz`` measured in the same run as the
reference.

Nothing is asserted: this measures.  Only 127.0.0.1 is targeted.
Run: ``.venv/bin/python bench/booking_rush.py`` (``--database-url postgresql://...`` for PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine_bench import flask_cli, gunicorn, load_average, machine_line  # noqa: E402
from tests.live import server_env  # noqa: E402

ATTEMPTS = 1000
SECONDS = 10.0
PLACES = 40
CLIENTS = 32


def next_slot(now: datetime) -> datetime:
    """The next quarter hour (the demo hall's 15-minute slots, bookable up to their start)."""
    quarter = now.replace(second=0, microsecond=0) + timedelta(minutes=15 - now.minute % 15)
    return quarter.astimezone(UTC)


def give_places(url: str, places: int) -> None:
    """Service A's slots get ``places`` each (an admin's figure)."""
    from kiosk import create_app
    from kiosk.extensions import db
    from queue_engine.booking.models import BookingSettings
    from queue_engine.core.models import Service

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "QMS_CHANGE_WATCH": False})
    with app.app_context():
        service = db.session.scalars(select(Service).where(Service.code == "A")).one()
        db.session.get(BookingSettings, service.id).capacity = places  # type: ignore[union-attr]
        db.session.commit()
        db.engine.dispose()


def booked_in_slot(url: str, start: datetime) -> int:
    from kiosk import create_app
    from kiosk.extensions import db
    from queue_engine.booking.models import Booking

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "QMS_CHANGE_WATCH": False})
    with app.app_context():
        count = db.session.scalar(select(func.count(Booking.id)).where(Booking.slot_start == start)) or 0
        db.engine.dispose()
        return int(count)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def rush(
    base: str, start: datetime, attempts: int, seconds: float
) -> tuple[Counter[str], list[float], float]:
    """``attempts`` bookings paced evenly over ``seconds``; what came back and how long each took."""
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    began = time.perf_counter() + 0.5
    when = start.isoformat()

    def client(index: int) -> None:
        http = requests.Session()
        for n in range(index, attempts, CLIENTS):
            delay = began + n * seconds / attempts - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = {"service": "A", "start": when, "name": f"访客{n}", "phone": f"139{n:08d}"}
            sent = time.perf_counter()
            try:
                answer = http.post(f"{base}/api/v1/appointments", json=body, timeout=60)
                code = str(answer.status_code)
                if answer.status_code >= 400:
                    code += " " + answer.json().get("error", {}).get("code", "?")
            except requests.RequestException as error:
                code = type(error).__name__
            with lock:
                outcomes[code] += 1
                latencies.append(time.perf_counter() - sent)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, latencies, time.perf_counter() - began


def healthz_rate(base: str, total: int = 2000) -> float:
    """GET /healthz per second with CLIENTS keep-alive clients (the reference of the run)."""
    began = time.perf_counter()

    def client(index: int) -> None:
        http = requests.Session()
        for _ in range(index, total, CLIENTS):
            http.get(f"{base}/healthz", timeout=30)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total / (time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="default: a temp SQLite file")
    parser.add_argument("--attempts", type=int, default=ATTEMPTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args(argv)
    print(f"Machine: {machine_line(with_pg=False)}")
    print(f"Load average at start: {load_average()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with tempfile.TemporaryDirectory(prefix="qms-booking-rush-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'rush.sqlite3'}"
        env = server_env(url, QMS_CHANGE_WATCH_SECONDS="0")  # the rate limit is off there
        env["QMS_INSTANCE_PATH"] = str(Path(tmp) / "instance")
        os.environ["QMS_INSTANCE_PATH"] = env["QMS_INSTANCE_PATH"]
        flask_cli(env, "init-db")
        flask_cli(env, "seed-demo")
        give_places(url, PLACES)
        start = next_slot(datetime.now(UTC))
        with gunicorn(env, Path(tmp) / "gunicorn.log") as base:
            reference = healthz_rate(base)
            outcomes, latencies, took = rush(base, start, args.attempts, args.seconds)
        booked = booked_in_slot(url, start)
    errors = sum(n for code, n in outcomes.items() if code not in ("201", "409 slot_full"))
    print(f"GET /healthz: {reference:.0f} req/s ({CLIENTS} keep-alive clients), the run's reference")
    print(
        f"Booking rush: {args.attempts} attempts in {took:.1f} s for {PLACES} places of one slot "
        f"({args.attempts / took:.0f} attempts/s offered)"
    )
    print("  answers: " + ", ".join(f"{code} × {n}" for code, n in sorted(outcomes.items())))
    print(
        f"  latency p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )
    print(f"  bookings the database holds for the slot: {booked} (of {PLACES} places); errors: {errors}")
    print(f"Load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
