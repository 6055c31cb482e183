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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.kinds import ACTIVE_STATUSES, CounterState, TicketStatus
from queue_engine.core.models import Counter, Service, Ticket

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
    since = clock.today() - timedelta(days=RECENT_DAYS - 1)  # today and the 6 days before
    rows = session.execute(
        select(Ticket.called_at, Ticket.finished_at)
        .where(
            Ticket.status == TicketStatus.DONE,
            Ticket.business_date >= since,
            Ticket.service_id == service_id,
        )
        .order_by(Ticket.finished_at.desc())
        .limit(RECENT_TICKETS)
    ).all()
    spans = [(done - called).total_seconds() for called, done in rows if called and done]
    return sum(spans) / len(spans) if spans else DEFAULT_HANDLING_S


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
    open_counters = session.scalars(
        select(Counter).where(Counter.state == CounterState.OPEN, Counter.active.is_(True))
    ).all()
    loads = {}
    services = select(Service) if only is None else select(Service).where(Service.id == only)
    for service in session.scalars(services):
        serving = [c for c in open_counters if service in c.services]
        loads[service.id] = ServiceLoad(
            waiting=waiting.get(service.id, 0),
            open_counters=len(serving),
            idle_counters=sum(1 for c in serving if c.id not in busy_counters),
            mean_handling_s=mean_handling_s(session, clock, service.id),
        )
    return loads
