"""Ratings for the provincial good/bad review platform (好差评): no visitor contact data.

Each record: the visit's ticket number, business date, service code, counter name, clerk id,
issue/call/finish/rating times (ISO 8601 UTC), the level 1-5 with its name, the three optional
dimensions (efficiency, level, attitude: 1-5 or null), the comment, and the rating channel.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import iso
from queue_engine.core.models import Counter, Service, Ticket, Visit

LEVEL_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
FIELDS = [
    "visit_number",
    "business_date",
    "service",
    "counter",
    "clerk_id",
    "issued_at",
    "called_at",
    "finished_at",
    "rated_at",
    "level",
    "level_name",
    "efficiency",
    "service_level",
    "attitude",
    "comment",
    "channel",
]


def ratings_between(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    """Every rated visit whose ticket's business day is in [start, end], oldest first."""
    rows = session.execute(
        select(Visit, Ticket, Service.code, Counter.name)
        .join(Ticket, Visit.ticket_id == Ticket.id)
        .join(Service, Visit.service_id == Service.id)
        .outerjoin(Counter, Visit.counter_id == Counter.id)
        .where(Visit.rating.is_not(None), Ticket.business_date >= start, Ticket.business_date <= end)
        .order_by(Visit.rated_at, Visit.id)
    ).all()
    return [
        {
            "visit_number": ticket.number,
            "business_date": ticket.business_date.isoformat(),
            "service": service_code,
            "counter": counter_name,
            "clerk_id": visit.staff_id,
            "issued_at": iso(ticket.issued_at),
            "called_at": iso(ticket.called_at),
            "finished_at": iso(visit.finished_at),
            "rated_at": iso(visit.rated_at),
            "level": visit.rating,
            "level_name": LEVEL_NAMES.get(visit.rating or 0),
            "efficiency": visit.rating_efficiency,
            "service_level": visit.rating_level,
            "attitude": visit.rating_attitude,
            "comment": visit.rating_comment or "",
            "channel": visit.rating_source,
        }
        for visit, ticket, service_code, counter_name in rows
    ]
