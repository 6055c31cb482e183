"""The daily summary, computed from the day's tickets and their event log."""

from __future__ import annotations

import math
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import Clock
from .models import OPEN_STATUSES, Service, Ticket, TicketEvent, TicketStatus, User, Visit


def summarise(values: Iterable[float]) -> dict[str, Any]:
    """Count, mean, median and 90th percentile (nearest rank) of durations in seconds."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "mean_s": None, "median_s": None, "p90_s": None}

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {
        "count": len(ordered),
        "mean_s": round(sum(ordered) / len(ordered), 1),
        "median_s": round(median, 1),
        "p90_s": round(rank(0.9), 1),
    }


def daily_summary(session: Session, clock: Clock, day: date) -> dict[str, Any]:
    """Volumes, times and satisfaction for one business day, per service, hour and clerk."""
    tickets = session.scalars(select(Ticket).where(Ticket.business_date == day)).all()
    ids = [t.id for t in tickets]
    first_call: dict[int, Any] = {}
    transfers_out: Tally[int] = Tally()
    if ids:
        for ticket_id, type_, at, data in session.execute(
            select(TicketEvent.ticket_id, TicketEvent.type, TicketEvent.at, TicketEvent.data)
            .where(TicketEvent.ticket_id.in_(ids), TicketEvent.type.in_(("called", "transferred")))
            .order_by(TicketEvent.id)
        ):
            if type_ == "called":
                first_call.setdefault(ticket_id, at)
            else:
                transfers_out[int((data or {}).get("from_service_id") or 0)] += 1
    visits = (
        {v.ticket_id: v for v in session.scalars(select(Visit).where(Visit.ticket_id.in_(ids)))}
        if ids
        else {}
    )
    services = {s.id: s for s in session.scalars(select(Service))}
    users = {u.id: u for u in session.scalars(select(User))}

    def figures(group: list[Ticket], service_id: int | None = None) -> dict[str, Any]:
        status = Tally(str(t.status) for t in group)
        done = [t for t in group if t.status == TicketStatus.DONE]
        ratings: list[int] = [
            r for t in done if t.id in visits and (r := visits[t.id].rating) is not None
        ]
        return {
            "issued": len(group),
            "served": status[TicketStatus.DONE],
            "no_show": status[TicketStatus.NO_SHOW],
            "cancelled": status[TicketStatus.CANCELLED],
            "expired": status[TicketStatus.EXPIRED],
            "open": sum(status[s] for s in OPEN_STATUSES),
            "transferred_out": (
                sum(transfers_out.values()) if service_id is None else transfers_out[service_id]
            ),
            "wait": summarise(
                (first_call[t.id] - t.issued_at).total_seconds() for t in group if t.id in first_call
            ),
            "service_time": summarise(
                (t.finished_at - t.started_at).total_seconds() for t in done if t.finished_at and t.started_at
            ),
            "satisfaction": {
                "ratings": len(ratings),
                "mean": round(sum(ratings) / len(ratings), 2) if ratings else None,
                "distribution": {str(k): ratings.count(k) for k in range(1, 6)},
                "response_rate": round(len(ratings) / len(done), 3) if done else None,
            },
        }

    by_service: dict[int, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        # Volumes count where a ticket was issued; a transfer is counted as transferred_out.
        by_service[ticket.issued_service_id].append(ticket)
    by_hour: Tally[int] = Tally(clock.local(t.issued_at).hour for t in tickets)
    served_by_hour: Tally[int] = Tally(clock.local(t.finished_at).hour for t in tickets if t.finished_at)
    by_staff: dict[int, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        if ticket.staff_id is not None and ticket.status in (TicketStatus.DONE, TicketStatus.NO_SHOW):
            by_staff[ticket.staff_id].append(ticket)
    return {
        "date": day.isoformat(),
        "totals": figures(list(tickets)),
        "services": [
            {"code": services[sid].code, "name": dict(services[sid].names), **figures(group, sid)}
            for sid, group in sorted(by_service.items(), key=lambda kv: services[kv[0]].sort_order)
        ],
        "hours": [
            {"hour": h, "issued": by_hour[h], "served": served_by_hour[h]}
            for h in range(24)
            if by_hour[h] or served_by_hour[h]
        ],
        "staff": [
            {
                "user_id": uid,
                "username": users[uid].username if uid in users else None,
                "display_name": users[uid].display_name if uid in users else None,
                **{
                    k: v
                    for k, v in figures(group).items()
                    if k in ("served", "no_show", "service_time", "satisfaction")
                },
            }
            for uid, group in sorted(by_staff.items())
        ],
    }
