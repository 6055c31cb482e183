"""The service-quality loop's figures (好差评): bad ratings, their rectification and the
follow-up calls, and a ranking that leaves out small samples.

Definitions (all over the visits of the period's business days, filtered like the report):

* cases: bad ratings (不满意, 非常不满意) of the period; each opened a rectification case;
* rectified: cases with the finding and measures recorded; rectified_on_time: of those, the
  ones recorded on or before the due date; on_time_rate = rectified_on_time / (rectified + overdue);
* overdue: cases past their due date and not rectified yet (as of today);
* followed_up: cases whose follow-up call (回访) is recorded; follow_up_rate = followed_up /
  rectified (the goal is 100%);
* reached: follow-up calls that reached the visitor; reply_rate = reached / followed_up.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.models import RectificationCase, Ticket, Visit


def share(part: int, whole: int) -> float | None:
    """A part of a whole, to three decimals; None when the whole is nothing (no rate to give)."""
    return round(part / whole, 3) if whole else None


def rectification_figures(
    session: Session,
    clock: Clock,
    first: date,
    last: date,
    *,
    service_id: int | None = None,
    counter_id: int | None = None,
    staff_id: int | None = None,
) -> dict[str, Any]:
    """Cases of the period's bad ratings and how they were handled (see the module's definitions)."""
    query = (
        select(RectificationCase)
        .join(Visit, RectificationCase.visit_id == Visit.id)
        .join(Ticket, Visit.ticket_id == Ticket.id)
        .where(Ticket.business_date.between(first, last))
    )
    for column, value in (
        (Ticket.issued_service_id, service_id),
        (Ticket.counter_id, counter_id),
        (Ticket.staff_id, staff_id),
    ):
        if value is not None:
            query = query.where(column == value)
    today = clock.today()
    cases = session.scalars(query).all()
    rectified = [c for c in cases if c.rectified_at is not None]
    on_time = [c for c in rectified if clock.business_date(c.rectified_at) <= c.due_date]  # type: ignore[arg-type]
    overdue = [c for c in cases if c.rectified_at is None and c.due_date < today]
    followed = [c for c in cases if c.followed_up_at is not None]
    reached = [c for c in followed if c.follow_up_reached]
    return {
        "cases": len(cases),
        "rectified": len(rectified),
        "rectified_on_time": len(on_time),
        "on_time_rate": share(len(on_time), len(rectified) + len(overdue)),
        "overdue": len(overdue),
        "followed_up": len(followed),
        "follow_up_rate": share(len(followed), len(rectified)),
        "reached": len(reached),
        "reply_rate": share(len(reached), len(followed)),
    }


def ranking(rows: list[dict[str, Any]], min_ratings: int) -> list[dict[str, Any]]:
    """Rows (clerks or counters with 'satisfaction') with at least ``min_ratings`` ratings, best
    first: by satisfaction rate, then mean, then more ratings. Smaller samples are not ranked."""
    ranked = [r for r in rows if r["satisfaction"]["ratings"] >= min_ratings]
    ranked.sort(
        key=lambda r: (
            -(r["satisfaction"]["satisfaction_rate"] or 0),
            -(r["satisfaction"]["mean"] or 0),
            -r["satisfaction"]["ratings"],
        )
    )
    return [{"rank": i + 1, **r} for i, r in enumerate(ranked)]
