"""Staffing plan: counters needed per hour of a weekday (Erlang C), beside those actually open.

For each hour of the chosen weekday, from the same weekday of the last weeks:

* arrivals per hour ``λ`` = the mean, over those days that had tickets, of the tickets issued
  in that local hour;
* handling time ``h`` = mean walk (call -> start) + mean service time (start -> finish) over
  those days: the time a counter is taken by one visitor;
* offered load ``a = λ·h`` (Erlangs); with ``c`` counters the probability of waiting is
  Erlang C, ``P_w = C(c, a)``, and the mean wait ``W = P_w·h / (c - a)`` (M/M/c);
* counters needed = the smallest ``c > a`` with ``W`` at most the target wait;
* counters open = the counter-hours of duty (CounterSession rows) that fell in that hour,
  per day, pauses spread evenly over their stretch of duty (only their total is recorded);
  the wait they would give is computed for that mean rounded to whole counters.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.models import Counter, CounterSession, Service
from queue_engine.reporting.cells import load_cells
from queue_engine.reporting.counting import Cell, by_position, joined

DEFAULT_HANDLING_S = 300.0
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival has to wait, M/M/c with ``load`` Erlangs offered."""
    if load <= 0:
        return 0.0
    if servers <= load:
        return 1.0
    blocking = 1.0  # Erlang B by its stable recursion, then C from B
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return servers * blocking / (servers - load * (1 - blocking))


def mean_wait_s(servers: int, arrivals_per_h: float, handling_s: float) -> float:
    """Mean wait in the queue (seconds) with ``servers`` counters; infinite when overloaded."""
    load = arrivals_per_h * handling_s / 3600
    if arrivals_per_h <= 0:
        return 0.0
    if servers <= load:
        return math.inf
    return erlang_c(servers, load) * handling_s / (servers - load)


def counters_needed(arrivals_per_h: float, handling_s: float, target_s: float) -> int:
    """The fewest counters keeping the mean wait at or under the target (0 with no arrivals)."""
    if arrivals_per_h <= 0:
        return 0
    servers = max(1, math.floor(arrivals_per_h * handling_s / 3600) + 1)
    while mean_wait_s(servers, arrivals_per_h, handling_s) > target_s:
        servers += 1
    return servers


def _wait_or_none(servers: int, arrivals_per_h: float, handling_s: float) -> int | None:
    """The expected mean wait with that many counters, None when none or overloaded."""
    if servers < 1:
        return None
    wait = mean_wait_s(servers, arrivals_per_h, handling_s)
    return None if wait == math.inf else round(wait)


def sample_days(today: date, weekday: int, weeks: int) -> list[date]:
    """The last ``weeks`` dates before today falling on ``weekday`` (Monday = 0), oldest first."""
    back = (today.weekday() - weekday) % 7 or 7
    last = today - timedelta(days=back)
    return [last - timedelta(weeks=n) for n in reversed(range(weeks))]


def _open_counter_hours(
    session: Session, clock: Clock, days: list[date], counter_ids: set[int] | None
) -> dict[date, list[float]]:
    """Per day, the counters open in each local hour (counter-seconds / 3600)."""
    first_start, _ = clock.day_bounds(days[0])
    _, last_end = clock.day_bounds(days[-1])
    now = clock.now()
    query = select(CounterSession).where(
        CounterSession.opened_at < last_end,
        or_(CounterSession.closed_at.is_(None), CounterSession.closed_at > first_start),
    )
    if counter_ids is not None:
        query = query.where(CounterSession.counter_id.in_(counter_ids))
    sessions = list(session.scalars(query))
    hours: dict[date, list[float]] = {}
    for day in days:
        per_hour = [0.0] * 24
        day_start, day_end = clock.day_bounds(day)
        for duty in sessions:
            opened, closed = duty.opened_at, duty.closed_at or now
            if closed <= day_start or opened >= day_end or closed <= opened:
                continue
            working = 1 - min(1.0, duty.paused_seconds / (closed - opened).total_seconds())
            for hour in range(24):
                start = datetime.combine(day, datetime.min.time(), clock.tz).replace(hour=hour)
                end = start + timedelta(hours=1)
                overlap = (min(closed, end) - max(opened, start)).total_seconds()
                if overlap > 0:
                    per_hour[hour] += overlap * working / 3600
        hours[day] = per_hour
    return hours


def _handling_s(cells: list[Cell]) -> float:
    """A visit's mean time at the counter: walk plus service (the default when none was served)."""
    walks, service_times = joined(cells, "walks"), joined(cells, "service_times")
    return (sum(walks) / len(walks) if walks else 0) + (
        sum(service_times) / len(service_times) if service_times else DEFAULT_HANDLING_S
    )


def _mean_target_min(cells: list[Cell], services: dict[int, Service]) -> float:
    """The services' target waits, weighted by the tickets issued for each (15 min without any)."""
    by_service: dict[int, int] = {}
    for c in cells:
        by_service[c.service_id] = by_service.get(c.service_id, 0) + c.issued
    weighted = [(services[sid].target_wait_min, n) for sid, n in by_service.items() if sid in services and n]
    total = sum(n for _, n in weighted)
    return sum(t * n for t, n in weighted) / total if total else 15.0


def _counters_serving(session: Session, service_id: int | None) -> set[int] | None:
    """The counters that serve a service (None: every counter)."""
    if service_id is None:
        return None
    return {
        c.id for c in session.scalars(select(Counter).join(Counter.services).where(Service.id == service_id))
    }


def _plan_hours(
    arrivals: list[int],
    open_hours: dict[date, list[float]],
    busy_days: list[date],
    handling: float,
    target_min: float,
) -> list[dict[str, Any]]:
    """Per hour with arrivals or counters open: the load, counters needed, and the waits either way."""
    sampled = len(busy_days) or 1
    hours = []
    for hour in range(24):
        rate = arrivals[hour] / sampled
        is_open = [open_hours[d][hour] for d in busy_days]
        opened = sum(is_open) / sampled if busy_days else 0.0
        if not rate and not opened:
            continue
        needed = counters_needed(rate, handling, target_min * 60)
        hours.append(
            {
                "hour": hour,
                "arrivals_per_h": round(rate, 1),
                "load_erlangs": round(rate * handling / 3600, 2),
                "needed": needed,
                "expected_wait_s": round(mean_wait_s(needed, rate, handling)) if needed else 0,
                "open": round(opened, 1),
                "open_expected_wait_s": _wait_or_none(round(opened), rate, handling),
            }
        )
    return hours


def staffing_plan(
    session: Session,
    clock: Clock,
    *,
    weekday: int,
    weeks: int = 8,
    service_id: int | None = None,
    target_min: float | None = None,
) -> dict[str, Any]:
    """Per hour of a weekday: arrivals, counters needed for the target wait, counters open."""
    if not 0 <= weekday <= 6 or not 1 <= weeks <= 53:
        raise ValueError("weekday is 0-6 (Monday = 0), weeks 1-53")
    days = sample_days(clock.today(), weekday, weeks)
    cells = load_cells(session, clock, days[0], days[-1], service_id=service_id, months=False)
    wanted = set(days)
    cells = [c for c in cells if c.business_date in wanted]
    busy_days = sorted({c.business_date for c in cells if c.issued})
    handling = _handling_s(cells)
    services = {s.id: s for s in session.scalars(select(Service))}
    if target_min is None:
        target_min = _mean_target_min(cells, services)
    open_hours = _open_counter_hours(session, clock, days, _counters_serving(session, service_id))
    hours = _plan_hours(
        by_position(cells, "arrivals_by_hour", 24), open_hours, busy_days, handling, target_min
    )
    return {
        "weekday": weekday,
        "weekday_name": WEEKDAYS[weekday],
        "weeks": weeks,
        "days": [d.isoformat() for d in days],
        "days_with_tickets": [d.isoformat() for d in busy_days],
        "service_id": service_id,
        "service": services[service_id].code if service_id in services else None,
        "handling_s": round(handling, 1),
        "target_wait_min": round(target_min, 1),
        "hours": hours,
    }
