"""The hall live, as the supervisor sees it: queues against their targets, counters, alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock, iso
from queue_engine.core.kinds import ACTIVE_STATUSES, TicketStatus
from queue_engine.core.models import Counter, Service, Ticket, User
from queue_engine.reporting.reports import wait_level


def _queues_now(session: Session, today: date, now: datetime) -> list[dict[str, Any]]:
    """Per active service (in the hall's order): waiting now, the longest wait, served today."""
    waiting = {
        service_id: (count, oldest)
        for service_id, count, oldest in session.execute(
            select(Ticket.service_id, func.count(), func.min(Ticket.issued_at))
            .where(Ticket.status == TicketStatus.WAITING, Ticket.business_date == today)
            .group_by(Ticket.service_id)
        )
    }
    served = dict(
        session.execute(
            select(Ticket.issued_service_id, func.count())
            .where(Ticket.status == TicketStatus.DONE, Ticket.business_date == today)
            .group_by(Ticket.issued_service_id)
        ).all()
    )
    services = []
    for service in session.scalars(
        select(Service).where(Service.active.is_(True)).order_by(Service.sort_order, Service.code)
    ):
        count, oldest = waiting.get(service.id, (0, None))
        longest = (now - oldest).total_seconds() if oldest is not None else None
        services.append(
            {
                "code": service.code,
                "names": dict(service.names),
                "waiting": count,
                "longest_wait_s": None if longest is None else max(0, int(longest)),
                "target_wait_min": service.target_wait_min,
                "level": wait_level(longest, service.target_wait_min),
                "served_today": served.get(service.id, 0),
            }
        )
    return services


def _counters_now(session: Session, today: date, now: datetime) -> list[dict[str, Any]]:
    """Per active counter: its state, the clerk on duty, the ticket it holds and for how long."""
    held = {
        t.counter_id: t
        for t in session.scalars(
            select(Ticket).where(Ticket.status.in_(ACTIVE_STATUSES), Ticket.counter_id.is_not(None))
        )
    }
    served_at = dict(
        session.execute(
            select(Ticket.counter_id, func.count())
            .where(Ticket.status == TicketStatus.DONE, Ticket.business_date == today)
            .group_by(Ticket.counter_id)
        ).all()
    )
    users = {u.id: u for u in session.scalars(select(User))}
    counters = []
    for counter in session.scalars(select(Counter).where(Counter.active.is_(True)).order_by(Counter.id)):
        ticket = held.get(counter.id)
        clerk = users.get(counter.staff_id) if counter.staff_id is not None else None
        since = None
        if ticket is not None:
            since = ticket.started_at if ticket.status == TicketStatus.SERVING else ticket.called_at
        counters.append(
            {
                "id": counter.id,
                "name": counter.name,
                "state": str(counter.state),
                "state_since": iso(counter.state_since),
                "clerk": (clerk.display_name or clerk.username) if clerk else None,
                "services": [s.code for s in counter.services],
                "ticket": ticket.number if ticket else None,
                "ticket_status": str(ticket.status) if ticket else None,
                "ticket_service": ticket.service.code if ticket else None,
                "for_s": max(0, int((now - since).total_seconds())) if since is not None else None,
                "served_today": served_at.get(counter.id, 0),
            }
        )
    return counters


def _alerts(services: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The services whose longest wait is over their target."""
    return [
        {"service": s["code"], "longest_wait_s": s["longest_wait_s"], "target_wait_min": s["target_wait_min"]}
        for s in services
        if s["level"] == "over"
    ]


def hall_overview(session: Session, clock: Clock) -> dict[str, Any]:
    """Per service: waiting, longest current wait vs target, served today; per counter: who and what.

    "Served today" counts the day's finished tickets by the service they were issued for, as
    the reports do.  The longest wait is that of the earliest-issued ticket waiting now.
    """
    today, now = clock.today(), clock.now()
    services = _queues_now(session, today, now)
    return {
        "generated_at": iso(now),
        "date": today.isoformat(),
        "services": services,
        "counters": _counters_now(session, today, now),
        "alerts": _alerts(services),
        "waiting_total": sum(s["waiting"] for s in services),
        "served_total": sum(s["served_today"] for s in services),
    }
