"""How many places a slot offers: the admin's figure, or one from the hall's own history.

The default (DESIGN §10) is what the counters serving the service can take at its target
wait, less the walk-ins history expects in that hour, so that bookings never crowd out the
visitors who come without one:

* ``c`` = the counters open in that hour of that weekday (the staffing plan's figure for the
  counters serving the service), or, without history, the active counters serving it;
* ``λmax`` = the most arrivals per hour ``c`` counters take with a mean wait at or under the
  service's target (M/M/c, the staffing plan's Erlang C, with the service's handling time);
* walk-ins = the arrivals per hour the history shows for every service those counters serve;
* places per slot = ``(λmax - walk-ins) × slot length``, rounded down, never below nought.

Without any history the hall gets half of ``λmax`` (the other half is left to walk-ins).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.booking.models import BookingSettings
from queue_engine.core.clock import Clock
from queue_engine.core.models import Counter, Service, counter_services
from queue_engine.queue.ordering import shared_services
from queue_engine.reporting.staffing import mean_wait_s, staffing_plan


@dataclass(frozen=True)
class HourCapacity:
    """The default places per slot of one hour, and what they come from (shown to the admin)."""

    hour: int
    counters: float
    max_arrivals_per_h: float
    walk_ins_per_h: float
    places: int


def max_arrivals_per_h(servers: float, handling_s: float, target_s: float) -> float:
    """The most arrivals per hour ``servers`` counters take with the mean wait at the target."""
    whole = int(servers)
    if whole < 1 or handling_s <= 0:
        return 0.0
    low, high = 0.0, whole * 3600 / handling_s  # the wait is infinite at full load
    for _ in range(40):
        middle = (low + high) / 2
        if mean_wait_s(whole, middle, handling_s) <= target_s:
            low = middle
        else:
            high = middle
    return low


def _serving_counters(session: Session, service_id: int) -> int:
    """How many active counters serve the service."""
    return len(
        session.scalars(
            select(counter_services.c.counter_id)
            .join(Counter, Counter.id == counter_services.c.counter_id)
            .where(counter_services.c.service_id == service_id, Counter.active.is_(True))
        ).all()
    )


def _per_hour(plan: dict[str, Any], field: str) -> dict[int, float]:
    return {int(row["hour"]): float(row[field]) for row in plan["hours"]}


def default_capacity(
    session: Session, clock: Clock, settings: BookingSettings, weekday: int
) -> list[HourCapacity]:
    """The default places per slot for each hour of a weekday (0-23), from the hall's history."""
    service = session.get(Service, settings.service_id)
    assert service is not None
    counters, sharing = _serving_counters(session, service.id), shared_services(session, service.id)
    plans = {sid: staffing_plan(session, clock, weekday=weekday, service_id=sid) for sid in sharing}
    own = plans[service.id]
    opened = _per_hour(own, "open")
    walk_ins = [_per_hour(plan, "arrivals_per_h") for plan in plans.values()]
    history = any(plan["days_with_tickets"] for plan in plans.values())
    slot_h = max(settings.slot_minutes, 5) / 60
    hours = []
    for hour in range(24):
        servers = opened.get(hour) or float(counters)
        most = max_arrivals_per_h(round(servers), float(own["handling_s"]), service.target_wait_min * 60)
        expected = sum(rates.get(hour, 0.0) for rates in walk_ins)
        free = most - expected if history else most / 2
        hours.append(
            HourCapacity(hour, servers, round(most, 1), round(expected, 1), max(0, int(free * slot_h)))
        )
    return hours


def capacity_for(settings: BookingSettings, defaults: list[HourCapacity] | None, local: datetime) -> int:
    """The places of a slot starting at a local moment: the admin's override, figure, or the default."""
    override = (settings.capacity_overrides or {}).get(f"{local.weekday()}:{local.hour}")
    if override is not None:
        return max(0, int(override))
    if settings.capacity is not None:
        return max(0, settings.capacity)
    return defaults[local.hour].places if defaults else 0


def slot_capacity(session: Session, clock: Clock, settings: BookingSettings, starts_at: datetime) -> int:
    """The places of one slot (the history is read only when the admin set no figure)."""
    local = clock.local(starts_at)
    needs_history = settings.capacity is None and f"{local.weekday()}:{local.hour}" not in (
        settings.capacity_overrides or {}
    )
    defaults = default_capacity(session, clock, settings, local.weekday()) if needs_history else None
    return capacity_for(settings, defaults, local)
