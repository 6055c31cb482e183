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
from queue_engine.queue.ordering import call_sequence, reaches


def next_tickets(session: Session, service_ids: Iterable[int], day: date) -> dict[int, Ticket]:
    """Each of these services' next ticket to be called today (services nobody waits for: absent).

    Services sharing counters share one call order, which is read once for all of them.
    """
    orders: dict[tuple[int, ...], list[Ticket]] = {}
    heads: dict[int, Ticket] = {}
    wanted = list(service_ids)
    reach_of = reaches(session, wanted)
    for service_id in wanted:
        reach = tuple(reach_of[service_id])
        if reach not in orders:
            orders[reach] = call_sequence(session, reach, day)
        head = next((t for t in orders[reach] if t.service_id == service_id), None)
        if head is not None:
            heads[service_id] = head
    return heads
