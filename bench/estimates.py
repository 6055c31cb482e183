"""How good the wait estimates are (issue 17): the simulator's days replayed, old estimator beside new.

For the demo hall (``seed-demo``) and the large hall (``seed-demo --size large``) at peak
loads 0.9 and 1.3, ``queue_engine.simulation.simulate`` runs the same days twice (same seed, so
the same visitors and calls: the estimate changes nothing the simulator does), once keeping
the old estimate at issue (``ServiceLoad``: own service, mean of the last 20) and once the
forward pass.  Each run's called tickets give the accuracy (reporting/accuracy.py), for all,
walk-in and booked tickets (the demo hall's A takes bookings; in the large hall its first two
services are made bookable the same way, as an admin would).  Then the cost of estimating 500
waiting tickets: the forward pass alone, and what the screens build from it in one publish
batch (every service room's list) and for one ticket's page, and the kiosk's list.
The 7 calendar days before the measured ones (``--warmup``, 5 working days) are simulated
first and not measured: the estimator learns the counters' usual pauses and the share of
visitors transferred from a hall's past week, as in a hall in use; ``--warmup 0`` measures a
hall's first days instead (the first with nothing to learn from).
Run: ``PYTHONPATH=. .venv/bin/python bench/estimates.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.cli.seed import demo_booking_settings, seed_demo  # noqa: E402
from kiosk.cli.seed_large import seed_large  # noqa: E402
from queue_engine.core.clock import FakeClock  # noqa: E402
from queue_engine.core.db import make_engine  # noqa: E402
from queue_engine.core.kinds import Role, Source  # noqa: E402
from queue_engine.core.models import Base, Counter, Service, User  # noqa: E402
from queue_engine.queue import estimates  # noqa: E402
from queue_engine.queue.counters import close_counter, open_counter, pause_counter, resume_counter  # noqa: E402
from queue_engine.queue.estimates import forecast, service_loads  # noqa: E402
from queue_engine.queue.ordering import tickets_ahead, waiting_query  # noqa: E402
from queue_engine.queue.snapshots import service_list, ticket_view, waiting_positions  # noqa: E402
from queue_engine.queue.tickets import enqueue  # noqa: E402
from queue_engine.reporting.accuracy import estimate_accuracy  # noqa: E402
from queue_engine.simulation import SimulationSettings, simulate  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
END = date(2026, 11, 20)  # a Friday: fixed, so runs compare
BOOKABLE_LARGE = 2  # the large hall's first services made bookable (it is seeded with none)


def _large(session: Session) -> None:
    seed_large(session, None, "bench-pass-1")
    session.flush()
    for service in session.scalars(select(Service).order_by(Service.sort_order).limit(BOOKABLE_LARGE)):
        session.add(demo_booking_settings(service.id))


HALLS = {
    "demo": lambda s: seed_demo(s, None, "bench-pass-1"),
    "large": _large,
}
KINDS = (("all", None), ("walk-in", "walk_in"), ("booked", "booked"))


def run(hall: str, load: float, method: str, days: int, workdir: Path, warmup: int = 0) -> dict[str, Any]:
    """One simulated history with one estimator; its accuracy over the days.

    ``warmup``: calendar days simulated before them and not measured, so the estimator starts
    from a hall's history (its counters' usual pauses) as a hall in use would.
    """
    engine = make_engine(f"sqlite:///{workdir / f'{hall}-{load}-{method}.sqlite3'}")
    Base.metadata.create_all(engine)
    estimates.AT_ISSUE_METHOD = method
    try:
        with Session(engine) as session:
            HALLS[hall](session)
            session.commit()
            simulate(session, TZ, SimulationSettings(days=days + warmup, seed=1, end=END, load=load))
            first = END - timedelta(days=days - 1) if warmup else END - timedelta(days=days + 3)
            return estimate_accuracy(session, first, END)
    finally:
        estimates.AT_ISSUE_METHOD = "forward"
        engine.dispose()


def _best_ms(work: Any, repeat: int = 5) -> float:
    """The fastest of a few runs, in milliseconds (the machine is shared: the others are noise)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def _pause_history(session: Session, clock: FakeClock, on_duty: list[tuple[Counter, User]]) -> None:
    """A week of duty before the clock's day: each counter lunches 45 minutes (from 11:45 or
    12:30, in two shifts) and takes a 10-minute break at 15:30, so the pass reads pauses."""
    today = clock.today()

    def at(day: date, hour: int, minute: int) -> None:
        clock.set(datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ))

    for back in range(estimates.RECENT_DAYS, 0, -1):
        day = today - timedelta(days=back)
        for i, (counter, clerk) in enumerate(on_duty):
            at(day, 8, 30)
            open_counter(session, clock, counter.id, clerk.id)
            for hour, minute, length in ((11, 45, 45) if i % 2 == 0 else (12, 30, 45), (15, 30, 10)):
                at(day, hour, minute)
                pause_counter(session, clock, counter.id, clerk.id)
                clock.advance(minutes=length)
                resume_counter(session, clock, counter.id, clerk.id)
            at(day, 17, 30)
            close_counter(session, clock, counter.id, clerk.id, "")
    at(today, 10, 0)
    session.flush()


def cost(workdir: Path, waiting: int = 500) -> dict[str, float]:
    """Milliseconds to estimate ``waiting`` waiting tickets in the large hall.

    The counters have a week's pauses behind them (``_pause_history``).  Old: the loads, then
    each ticket's place and estimate.  New: the one forward pass; the
    publisher's batch (one pass, every service room's list); one ticket's page (a pass over its
    linked services); the kiosk's list (``estimate_at_issue`` per service).
    """
    engine = make_engine(f"sqlite:///{workdir / 'cost.sqlite3'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed_large(session, None, "bench-pass-1")
        clock = FakeClock(tz=TZ)
        clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
        clerks = list(session.scalars(select(User).where(User.role == Role.CLERK).order_by(User.id)))
        counters = list(session.scalars(select(Counter).order_by(Counter.id)))
        on_duty = list(zip(counters, clerks, strict=False))
        _pause_history(session, clock, on_duty)
        for counter, clerk in on_duty:
            open_counter(session, clock, counter.id, clerk.id)
        services = list(session.scalars(select(Service).order_by(Service.id)))
        for n in range(waiting):
            enqueue(session, clock, services[n % len(services)], lang="zh", source=Source.KIOSK)
        session.flush()
        started = time.perf_counter()
        loads = service_loads(session, clock)
        for ticket in session.scalars(waiting_query([s.id for s in services], clock.today())):
            loads[ticket.service_id].estimate(tickets_ahead(session, ticket))
        old = (time.perf_counter() - started) * 1000
        assert len(forecast(session, clock)) == waiting
        last = session.scalars(waiting_query([s.id for s in services], clock.today())).all()[-1]

        def batch() -> None:
            found = forecast(session, clock)
            for service in services:
                waiting_positions(session, clock, service.id, found)

        figures = {
            "old": old,
            "forecast": _best_ms(lambda: forecast(session, clock)),
            "batch": _best_ms(batch),
            "page": _best_ms(lambda: ticket_view(session, clock, last)),
            "kiosk": _best_ms(lambda: service_list(session, clock, "zh")),
        }
    engine.dispose()
    return figures


def fmt(figures: dict[str, Any]) -> str:
    if not figures.get("tickets"):
        return "—"
    close = figures["close_share"] * 100
    return f"{close:.0f}% · {figures['median_abs_error_s']} s · {figures['bias_s']:+d} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--halls", default="demo,large")
    parser.add_argument("--loads", default="0.9,1.3")
    parser.add_argument(
        "--warmup", type=int, default=7, help="calendar days simulated before the measured days, not measured"
    )
    parser.add_argument("--no-cost", action="store_true", help="the accuracy table only")
    args = parser.parse_args()
    head = "close · median error · bias"
    print(f"| load | hall | service | tickets | kind | old: {head} | new: {head} |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for load in (float(x) for x in args.loads.split(",")):
            for hall in args.halls.split(","):
                old = run(hall, load, "service_load", args.days, workdir, args.warmup)
                new = run(hall, load, "forward", args.days, workdir, args.warmup)
                rows = [("all", old, new)] + [
                    (code, old["services"][code], new["services"].get(code, {})) for code in old["services"]
                ]
                for code, o, n in rows:
                    for kind, key in KINDS:
                        ko, kn = (o, n) if key is None else (o[key], n.get(key, {}))
                        if key is not None and not ko["tickets"]:
                            continue  # no booked tickets in this service
                        cells = (load, hall, code, ko["tickets"], kind, fmt(ko), fmt(kn))
                        print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)
        if args.no_cost:
            return
        ms = cost(workdir)
        print(
            f"\nEstimating 500 waiting tickets (large hall): old {ms['old']:.1f} ms; forward pass "
            f"{ms['forecast']:.1f} ms; a publish batch (pass + every service room's list) "
            f"{ms['batch']:.1f} ms; one ticket's page {ms['page']:.1f} ms; "
            f"the kiosk's list {ms['kiosk']:.1f} ms"
        )


if __name__ == "__main__":
    main()
