"""Wait estimates, from the queue ahead, recent handling times and the open counters.

For a ticket with ``ahead`` waiting tickets of its service before it:

* ``c`` = counters that are open (not paused) and serve the service, at least 1 (a hall with
  none open still gets an estimate, as if one counter opened);
* ``idle`` = those of them with no active ticket, who will call straight away;
* ``m`` = mean handling time (call to finish) of the service's last 20 finished tickets of
  the past 7 days; 300 s when there are none;
* estimate = 0 when ``ahead < idle``, else ``m * (ahead - idle + 1) / c``.

A new ticket's estimate (the kiosk's "estimated wait") is the same with ``ahead`` = the
number of tickets waiting now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.kinds import ACTIVE_STATUSES, CounterState, TicketStatus
from queue_engine.core.models import Counter, Service, Ticket, counter_services

DEFAULT_HANDLING_S = 300.0
RECENT_TICKETS = 20
RECENT_DAYS = 7


@dataclass(frozen=True)
class ServiceLoad:
    """What an estimate for one service is made from."""

    waiting: int
    open_counters: int
    idle_counters: int
    mean_handling_s: float

    def estimate(self, ahead: int) -> int:
        """Seconds a ticket with ``ahead`` tickets before it may expect to wait."""
        if ahead < self.idle_counters:
            return 0
        counters = max(self.open_counters, 1)
        return round(self.mean_handling_s * (ahead - self.idle_counters + 1) / counters)

    @property
    def new_ticket_estimate(self) -> int:
        """Seconds a ticket taken now may expect to wait."""
        return self.estimate(self.waiting)


def mean_handling_s(session: Session, clock: Clock, service_id: int) -> float:
    """Mean call-to-finish time of a service's recent finished tickets."""
    return mean_handling_times(session, clock, [service_id])[service_id]


def mean_handling_times(session: Session, clock: Clock, service_ids: list[int]) -> dict[int, float]:
    """Mean call-to-finish time of each service's recent finished tickets, in one statement.

    Each service's last ``RECENT_TICKETS`` are read by ``ix_tickets_recent_done`` (service,
    status, finish time), so the cost does not grow with the week's tickets.
    """
    # Finished today or in the 6 days before (a ticket finishes on its business day).
    since, _ = clock.day_bounds(clock.today() - timedelta(days=RECENT_DAYS - 1))
    spans: dict[int, list[float]] = {service_id: [] for service_id in service_ids}
    if not service_ids:
        return {}
    recent = [
        select(Ticket.service_id, Ticket.called_at, Ticket.finished_at)
        .where(
            Ticket.service_id == service_id,
            Ticket.status == TicketStatus.DONE,
            Ticket.finished_at >= since,
        )
        .order_by(Ticket.finished_at.desc())
        .limit(RECENT_TICKETS)
        .subquery()
        for service_id in service_ids
    ]
    for service_id, called, done in session.execute(union_all(*(select(part) for part in recent))):
        if called and done:
            spans[service_id].append((done - called).total_seconds())
    return {sid: sum(found) / len(found) if found else DEFAULT_HANDLING_S for sid, found in spans.items()}


def service_loads(session: Session, clock: Clock, *, only: int | None = None) -> dict[int, ServiceLoad]:
    """The load of every service (or of the service ``only``), keyed by service id."""
    today = clock.today()
    waiting: dict[int, int] = {
        service_id: count
        for service_id, count in session.execute(
            select(Ticket.service_id, func.count())
            .where(Ticket.status == TicketStatus.WAITING, Ticket.business_date == today)
            .group_by(Ticket.service_id)
        )
    }
    busy_counters = set(
        session.scalars(
            select(Ticket.counter_id).where(
                Ticket.status.in_(ACTIVE_STATUSES), Ticket.counter_id.is_not(None)
            )
        )
    )
    serving: dict[int, list[int]] = {}  # service id -> the open counters serving it
    for counter_id, service_id in session.execute(
        select(Counter.id, counter_services.c.service_id)
        .join(counter_services, counter_services.c.counter_id == Counter.id)
        .where(Counter.state == CounterState.OPEN, Counter.active.is_(True))
    ):
        serving.setdefault(service_id, []).append(counter_id)
    services = select(Service.id) if only is None else select(Service.id).where(Service.id == only)
    service_ids = list(session.scalars(services))
    means = mean_handling_times(session, clock, service_ids)
    loads = {}
    for service_id in service_ids:
        counters = serving.get(service_id, [])
        loads[service_id] = ServiceLoad(
            waiting=waiting.get(service_id, 0),
            open_counters=len(counters),
            idle_counters=sum(1 for c in counters if c not in busy_counters),
            mean_handling_s=means[service_id],
        )
    return loads
