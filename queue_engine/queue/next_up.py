"""Who gets ready next: each service's first waiting ticket in the order it will be called.

The board's "请 A013 号准备 · Next: A013" line.  The order is :func:`call_sequence`'s (the one
call order, under the hall's priority policy), read as a visitor's place is read
(:func:`queue_of`): the head of a service's queue is the ticket told "you are next".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from queue_engine.core.models import Ticket
from queue_engine.queue.ordering import growing_heads, reaches, waiting_counts


def next_tickets(session: Session, service_ids: Iterable[int], day: date) -> dict[int, Ticket]:
    """Each of these services' next ticket to be called today (services nobody waits for: absent).

    Services sharing counters share one call order, which is read once for all of them, and
    only as far as needed: its head, and further only while a service with tickets waiting has
    none in it (``growing_heads``: the head of the call order is the whole order's head).
    """
    heads: dict[int, Ticket] = {}
    wanted = list(service_ids)
    reach_of = reaches(session, wanted)
    by_reach: dict[tuple[int, ...], list[int]] = {}
    for service_id in wanted:
        by_reach.setdefault(tuple(reach_of[service_id]), []).append(service_id)
    waiting = waiting_counts(session, wanted, day)
    for reach, services in by_reach.items():
        sought = {s for s in services if waiting.get(s)}
        if not sought:
            continue
        for order in growing_heads(session, reach, day):
            for ticket in order:
                if ticket.service_id in sought:
                    heads[ticket.service_id] = ticket
                    sought.discard(ticket.service_id)
            if not sought:
                break
    return heads
