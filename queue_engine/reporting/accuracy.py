"""How good the wait estimates were (DESIGN §12): the estimate each ticket showed at issue against its wait.

A called ticket's real wait runs from its issue to its first call (a transferred ticket's
later call for its new service does not count); it was close when
|estimate − real wait| ≤ max(25% of the real wait, 120 s).  The bias is the mean of
estimate − real wait (negative: the estimates were too short).  Walk-in and booked tickets
(source ``appointment``: checked in, queued from their slot's start) are also counted apart,
in total and per service.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_engine.core.kinds import Source
from queue_engine.core.models import Service, Ticket, TicketEvent

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


KINDS = ("walk_in", "booked")


def _by_kind(pairs: list[tuple[str, float, float]]) -> dict[str, Any]:
    """The accuracy of (kind, estimate, real wait) triples, in total and for each kind."""
    return {
        **accuracy_of((e, r) for _kind, e, r in pairs),
        **{kind: accuracy_of((e, r) for k, e, r in pairs if k == kind) for kind in KINDS},
    }


def estimate_accuracy(
    session: Session, first: date, last: date, *, service_id: int | None = None
) -> dict[str, Any]:
    """The accuracy over the called tickets of some business days, in total and per service (by code).

    Per service by the service a ticket was issued for (the estimate was shown for it); each
    figure also for walk-in and booked tickets apart (``walk_in``, ``booked``).  With
    ``service_id``, that service's tickets only.
    """
    # A transferred ticket is called again for its new service (and its ``called_at`` with it):
    # the estimate shown at issue was for its first call.
    first_call = (
        select(TicketEvent.ticket_id, func.min(TicketEvent.at).label("at"))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.type == "called", Ticket.business_date.between(first, last))
        .group_by(TicketEvent.ticket_id)
        .subquery()
    )
    query = (
        select(
            Service.code, Ticket.source, Ticket.estimated_wait_s_at_issue, Ticket.issued_at, first_call.c.at
        )
        .join(Service, Service.id == Ticket.issued_service_id)
        .join(first_call, first_call.c.ticket_id == Ticket.id)
        .where(Ticket.business_date.between(first, last), Ticket.estimated_wait_s_at_issue.is_not(None))
    )
    if service_id is not None:
        query = query.where(Ticket.issued_service_id == service_id)
    pairs: dict[str, list[tuple[str, float, float]]] = {}
    for code, source, estimate, issued, called in session.execute(query):
        if called is None or estimate is None:
            continue
        kind = "booked" if source == Source.APPOINTMENT else "walk_in"
        pairs.setdefault(code, []).append((kind, float(estimate), (called - issued).total_seconds()))
    every = [pair for found in pairs.values() for pair in found]
    services = {code: _by_kind(found) for code, found in sorted(pairs.items())}
    return {**_by_kind(every), "services": services}
