"""Where the forward estimate goes wrong (issue 17): one simulated history, the estimate at each
issue made again on the same queue with one of its parts changed, and each ticket's calls ahead.

The simulator does not read the estimate, so one history serves every variant: at each issue the
pass is played as shipped and with one part changed:

* ``no patience``: no visit ahead discounted for visitors giving up;
* ``true patience``: the simulator's own patience (``impatient_p`` of the visitors leave after
  an exponential wait of mean ``patience_mean_min``, the others never);
* ``true handling``: the simulator's own mean counter time per call (walk, service, gap, its
  no-shows' recall and wait), for the capped mean of the recent visits plus ``TURNAROUND_S``;
* ``no pauses``: no usual pause foreseen;
* ``no transfers``: no transferred visitor foreseen coming back;
* ``whole no-shows``: every call ahead a finished visit's time (no-shows not weighed in);
* ``patience to the end``: the share still waiting stepped down at every wait someone gave up
  at, however few were watched that long (no ``MIN_AT_RISK``).

Then, per kind (walk-in, booked): close share and bias of each, by day, for the tickets waiting
across the lunch shifts (issued before 13:15, called after 11:45) and the others; and the calls
made before each walk-in at the counters that serve its service, by who they were (waiting at
its issue, transferred back, booked and checked in later), against the places the pass foresaw.
Run: ``PYTHONPATH=. .venv/bin/python bench/estimates_why.py [--hall demo] [--load 1.3]
[--days 3] [--warmup 0]`` (the demo hall: under a minute).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from estimates import END, HALLS, TZ  # noqa: E402

from queue_engine.core.db import make_engine  # noqa: E402
from queue_engine.core.kinds import Source  # noqa: E402
from queue_engine.core.models import Base, Counter, Service, Ticket, TicketEvent  # noqa: E402
from queue_engine.queue import estimates as est  # noqa: E402
from queue_engine.queue import tickets as issuing  # noqa: E402
from queue_engine.reporting.accuracy import accuracy_of  # noqa: E402
from queue_engine.simulation import SimulationSettings, simulate  # noqa: E402
from queue_engine.simulation.model import PROFILES  # noqa: E402

Variant = Callable[[est._QueueState], est._QueueState]


def variants(settings: SimulationSettings, categories: dict[int, str]) -> dict[str, Variant]:
    """Each variant: the read queue with one part of the estimator changed."""
    grid = [30.0 * k for k in range(1, 1200)]
    share, mean = settings.impatient_p, settings.patience_mean_min * 60
    true_patience = est.Patience(tuple(grid), tuple(1 - share + share * math.exp(-t / mean) for t in grid))
    gap = sum(settings.gap_s) / 2

    def true_handling(service_id: int) -> float:
        visit = 10 + settings.walk_s + PROFILES[categories[service_id]].mean_service_s + gap
        return (1 - settings.no_show_p) * visit + settings.no_show_p * (135 + gap)  # recall, mark

    change = dataclasses.replace

    def patience_to_the_end(q: est._QueueState) -> est._QueueState:
        assert q.now is not None  # a read queue with something to play
        return change(q, patience=est.patience_of(q.recent, q.waiting, q.now, min_at_risk=0))

    return {
        "shipped": lambda q: q,
        "no patience": lambda q: change(q, patience=est.Patience()),
        "true patience": lambda q: change(q, patience=true_patience),
        "true handling": lambda q: change(q, handling={s: true_handling(s) for s in q.handling or {}}),
        "no pauses": lambda q: change(q, pauses={}),
        "no transfers": lambda q: change(q, transfers={}),
        "whole no-shows": lambda q: change(q, handling=est.robust_handling_times(q.recent)),
        "patience to the end": patience_to_the_end,
    }


def replay(hall: str, settings: SimulationSettings, days: int) -> list[dict[str, Any]]:
    """One history; per called ticket: its estimates, real wait, day, lunch, calls ahead."""
    categories: dict[int, str] = {}
    kept: dict[str, dict[str, Any]] = {}
    shown: dict[int, dict[str, Any]] = {}
    forecast, keep = est._forecast, issuing.keep_issued_forecast

    def at_issue(session: Session, clock: Any, pending: Any, *, linked_to: int | None = None) -> Any:
        if pending is None:
            return forecast(session, clock, pending, linked_to=linked_to)
        if not categories:
            categories.update({s.id: s.category for s in session.scalars(select(Service))})
        state = est._read_queue(session, clock, pending.service_id, pending.queued_at)
        found = est._pass(state, pending)
        if state.handling is not None:  # else nothing to play: every variant gives the same
            figures = {}
            for name, vary in variants(settings, categories).items():
                f = est._pass(vary(state), pending).get(est.PENDING_ID)
                figures[name] = f.wait_s if f else 0
            ahead = found.get(est.PENDING_ID)
            kept["last"] = {"estimates": figures, "ahead": ahead.ahead if ahead else 0}
        return found

    def keeping(session: Session, ticket: Ticket, found: Any) -> None:
        if "last" in kept:
            shown[ticket.id] = kept.pop("last")
        keep(session, ticket, found)

    est._forecast, issuing.keep_issued_forecast = at_issue, keeping
    try:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/why.sqlite3")
            Base.metadata.create_all(engine)
            with Session(engine) as session:
                HALLS[hall](session)
                session.commit()
                simulate(session, TZ, settings)
                rows = _calls_ahead(session, shown, END - timedelta(days=days - 1))
            engine.dispose()
    finally:
        est._forecast, issuing.keep_issued_forecast = forecast, keep
    return rows


def _calls_ahead(session: Session, shown: dict[int, dict[str, Any]], first: Any) -> list[dict[str, Any]]:
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.business_date >= first))}
    calls: list[tuple[datetime, int, int]] = []  # (at, counter, ticket)
    transferred: dict[int, datetime] = {}
    for event in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(list(tickets)))):
        if event.type == "called" and event.counter_id is not None:
            calls.append((event.at, event.counter_id, event.ticket_id))
        elif event.type == "transferred":
            transferred.setdefault(event.ticket_id, event.at)
    calls.sort()
    first_call: dict[int, datetime] = {}
    for at, _counter, ticket_id in calls:
        first_call.setdefault(ticket_id, at)
    serving: dict[int, set[int]] = {}
    for counter in session.scalars(select(Counter)):
        for service in counter.services:
            serving.setdefault(service.id, set()).add(counter.id)
    rows = []
    for ticket_id, figures in shown.items():
        ticket = tickets.get(ticket_id)
        if ticket is None or ticket_id not in first_call:
            continue
        issued, called = ticket.issued_at, first_call[ticket_id]
        counters = serving.get(ticket.issued_service_id, set())
        before = {"waiting at issue": 0, "transferred back": 0, "came later": 0}
        for at, counter, other in calls:
            if issued < at < called and counter in counters:
                if other in transferred and issued < transferred[other] < at:
                    before["transferred back"] += 1
                elif tickets[other].issued_at > issued:
                    before["came later"] += 1
                else:
                    before["waiting at issue"] += 1
        local_issue, local_call = issued.astimezone(TZ), called.astimezone(TZ)
        rows.append(
            {
                "kind": "booked" if ticket.source == Source.APPOINTMENT else "walk-in",
                "day": str(ticket.business_date),
                "lunch": (local_issue.hour, local_issue.minute) < (13, 15)
                and (local_call.hour, local_call.minute) > (11, 45),
                "real": (called - issued).total_seconds(),
                "before": before,
                **figures,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hall", default="demo", choices=sorted(HALLS))
    parser.add_argument("--load", type=float, default=1.3)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=0)
    args = parser.parse_args()
    settings = SimulationSettings(days=args.days + args.warmup, seed=1, end=END, load=args.load)
    rows = replay(args.hall, settings, args.days)
    names = list(variants(settings, {}))
    print(f"{args.hall} hall, load {args.load}, {args.days} days after {args.warmup} of warm-up")
    print("| kind | tickets | " + " | ".join(f"{name}: close · bias" for name in names) + " |")
    print("|---|---|" + "---|" * len(names))
    for kind in ("walk-in", "booked"):
        mine = [r for r in rows if r["kind"] == kind]
        groups = [("", mine)] + [
            (f" {d}", [r for r in mine if r["day"] == d]) for d in sorted({r["day"] for r in mine})
        ]
        groups += [
            (" across lunch", [r for r in mine if r["lunch"]]),
            (" others", [r for r in mine if not r["lunch"]]),
        ]
        for label, group in groups:
            cells = []
            for name in names:
                found = accuracy_of((r["estimates"][name], r["real"]) for r in group)
                cells.append(f"{found['close_share'] * 100:.0f}% · {found['bias_s']:+d} s" if group else "—")
            print(f"| {kind}{label} | {len(group)} | " + " | ".join(cells) + " |")
    walk_ins = [r for r in rows if r["kind"] == "walk-in"]
    kinds = {k: sum(r["before"][k] for r in walk_ins) for k in walk_ins[0]["before"]} if walk_ins else {}
    print(
        f"\nWalk-ins: places foreseen {sum(r['ahead'] for r in walk_ins)}; called before them at their "
        f"counters {sum(sum(r['before'].values()) for r in walk_ins)}: "
        + ", ".join(f"{k} {n}" for k, n in kinds.items())
    )


if __name__ == "__main__":
    main()
