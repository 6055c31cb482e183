"""How good the wait estimates were (DESIGN §12): the estimate each ticket showed at issue against its wait.

A called ticket's real wait runs from its issue to its first call; it was close when
|estimate − real wait| ≤ max(25% of the real wait, 120 s).  The bias is the mean of
estimate − real wait (negative: the estimates were too short).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.models import Service, Ticket

CLOSE_SHARE = 0.25
CLOSE_FLOOR_S = 120.0


def is_close(estimate_s: float, real_s: float) -> bool:
    """Whether an estimate was close to the wait that followed."""
    return abs(estimate_s - real_s) <= max(CLOSE_SHARE * real_s, CLOSE_FLOOR_S)


def accuracy_of(pairs: Iterable[tuple[float, float]]) -> dict[str, Any]:
    """``{"tickets", "close_share", "median_abs_error_s", "bias_s"}`` of (estimate, real wait) pairs."""
    found = list(pairs)
    if not found:
        return {"tickets": 0, "close_share": None, "median_abs_error_s": None, "bias_s": None}
    errors = [estimate - real for estimate, real in found]
    return {
        "tickets": len(found),
        "close_share": round(sum(1 for e, r in found if is_close(e, r)) / len(found), 4),
        "median_abs_error_s": round(median(abs(e) for e in errors)),
        "bias_s": round(sum(errors) / len(errors)),
    }


def estimate_accuracy(session: Session, first: date, last: date) -> dict[str, Any]:
    """The accuracy over the called tickets of some business days, in total and per service (by code).

    Per service by the service a ticket was issued for (the estimate was shown for it).
    """
    rows = session.execute(
        select(Service.code, Ticket.estimated_wait_s_at_issue, Ticket.issued_at, Ticket.called_at)
        .join(Service, Service.id == Ticket.issued_service_id)
        .where(
            Ticket.business_date.between(first, last),
            Ticket.called_at.is_not(None),
            Ticket.estimated_wait_s_at_issue.is_not(None),
        )
    ).all()
    pairs: dict[str, list[tuple[float, float]]] = {}
    for code, estimate, issued, called in rows:
        if called is None or estimate is None:
            continue
        pairs.setdefault(code, []).append((float(estimate), (called - issued).total_seconds()))
    every = [pair for found in pairs.values() for pair in found]
    services = {code: accuracy_of(found) for code, found in sorted(pairs.items())}
    return {**accuracy_of(every), "services": services}
