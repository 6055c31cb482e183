"""The order in which waiting tickets are called, under the hall's priority policy.

This is the one place that states the order.  ``call_next`` takes the first ticket of
:func:`call_sequence`; the counter's "Next" list shows its head; a visitor's position and
estimate are the ticket's place in it.  The order is built from the base order (queue time,
then id: a walk-in queues from its issue time, a booked ticket from its slot's start, and a
transferred ticket keeps its queue time, so it keeps its place) and the policy:

* ``strict``: the base order; the priority flag is ignored.
* ``priority_first``: every waiting priority ticket, then every other, each in base order.
* ``every_n``: the base order, except that after N calls in a row that held no priority
  ticket (counted over the same services, today, including the calls already made) the
  earliest priority ticket goes next.

A visitor's place ("3 people ahead") counts the tickets of their own service that will be
called before theirs.  That order is read from the call order of every service sharing a
counter with it (:func:`shared_services`), since under ``every_n`` the calls of those services
decide when a priority ticket's turn comes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Protocol, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from queue_engine.core.kinds import PriorityPolicy, TicketStatus
from queue_engine.core.models import Counter, Ticket, TicketEvent, counter_services
from queue_engine.hall.calendar import hall_settings


class _Queued(Protocol):
    @property
    def priority(self) -> bool: ...


_T = TypeVar("_T", bound=_Queued)


def waiting_query(service_ids: Sequence[int], day: date) -> Select[Ticket]:
    """Today's waiting tickets of some services, in the base order (queue time, then id).

    A ticket queues from its issue time, a booked one from its slot's start (``queued_at``,
    never NULL, so no database's NULL ordering comes into it).
    """
    return (
        select(Ticket)
        .where(
            Ticket.status == TicketStatus.WAITING,
            Ticket.business_date == day,
            Ticket.service_id.in_(service_ids),
        )
        .order_by(Ticket.queued_at, Ticket.id)
    )


def normal_streak(session: Session, service_ids: Sequence[int], day: date, every_n: int) -> int:
    """How many of the last calls among these services (up to N) held no priority ticket, in a row."""
    recent = session.scalars(
        select(Ticket.priority)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(
            TicketEvent.type == "called",
            Ticket.business_date == day,
            Ticket.service_id.in_(service_ids),
        )
        .order_by(TicketEvent.id.desc())
        .limit(max(every_n, 1))
    ).all()
    streak = 0
    for priority in recent:
        if priority:
            break
        streak += 1
    return streak


def in_call_order(items: Sequence[_T], policy: str, every_n: int = 3, streak: int = 0) -> list[_T]:
    """Waiting tickets (given in the base order) in the order the policy calls them.

    ``streak`` is the number of calls in a row, just made, that held no priority ticket
    (see :func:`normal_streak`); it only matters under ``every_n``.
    """
    if policy == PriorityPolicy.PRIORITY_FIRST:
        return [t for t in items if t.priority] + [t for t in items if not t.priority]
    if policy != PriorityPolicy.EVERY_N:
        return list(items)
    every_n = max(every_n, 1)
    prioritised = [i for i, t in enumerate(items) if t.priority]
    others = [i for i, t in enumerate(items) if not t.priority]
    order: list[_T] = []
    p = o = 0
    while p < len(prioritised) or o < len(others):
        priority_due = streak >= every_n or o == len(others)
        if p < len(prioritised) and (priority_due or prioritised[p] < others[o]):
            order.append(items[prioritised[p]])
            p += 1
            streak = 0
        else:
            order.append(items[others[o]])
            o += 1
            streak += 1
    return order


def call_sequence(
    session: Session, service_ids: Sequence[int], day: date, *, first: int | None = None
) -> list[Ticket]:
    """The day's waiting tickets of these services, in the order a counter serving them calls them.

    ``first``: only the first so many of that order (what ``call_next`` needs), read as the first
    so many priority tickets and the first so many others: every policy takes each group in the
    base order, so the head of the order is made of their heads alone, whatever the queue's length.
    """
    if not service_ids:
        return []
    hall = hall_settings(session)
    policy, every_n = hall.priority_policy, hall.priority_every_n
    if first is None:
        waiting = list(session.scalars(waiting_query(service_ids, day)).all())
    else:
        waiting = []
        for priority in (True, False):
            query = waiting_query(service_ids, day).where(Ticket.priority.is_(priority)).limit(first)
            waiting += session.scalars(query).all()
        waiting.sort(key=lambda t: (t.queued_at, t.id))
    streak = normal_streak(session, service_ids, day, every_n) if policy == PriorityPolicy.EVERY_N else 0
    order = in_call_order(waiting, policy, every_n, streak)
    return order if first is None else order[:first]


HEAD = 8  # how much of a call order is read at first (see ``growing_heads``)


def growing_heads(session: Session, service_ids: Sequence[int], day: date) -> Iterator[list[Ticket]]:
    """The head of the call order, read ever further (the first ``HEAD``, then four times as many
    each time) for as long as the caller asks, until the whole order has been read: what
    ``call_next`` and the board's next line need, without loading a long queue they do not."""
    first = HEAD
    while True:
        order = call_sequence(session, service_ids, day, first=first)
        yield order
        if len(order) < first:
            return  # the whole order was read
        first *= 4


def waiting_counts(session: Session, service_ids: Sequence[int], day: date) -> dict[int, int]:
    """How many of the day's tickets of each of these services wait (a service nobody waits for: absent)."""
    if not service_ids:
        return {}
    counted = (
        waiting_query(service_ids, day)
        .with_only_columns(Ticket.service_id, func.count())
        .group_by(Ticket.service_id)
        .order_by(None)
    )
    return {service_id: count for service_id, count in session.execute(counted)}


def reaches(session: Session, service_ids: Iterable[int]) -> dict[int, list[int]]:
    """Each service's queue's reach: it and every service sharing an active counter with it (one query)."""
    served_by: dict[int, set[int]] = {}
    for counter_id, service_id in session.execute(
        select(counter_services.c.counter_id, counter_services.c.service_id)
        .join(Counter, Counter.id == counter_services.c.counter_id)
        .where(Counter.active.is_(True))
    ):
        served_by.setdefault(counter_id, set()).add(service_id)
    found: dict[int, list[int]] = {}
    for service_id in service_ids:
        reach = {service_id}
        for services in served_by.values():
            if service_id in services:
                reach |= services
        found[service_id] = sorted(reach)
    return found


def shared_services(session: Session, service_id: int) -> list[int]:
    """The service and every service that shares an active counter with it (its queue's reach)."""
    return reaches(session, [service_id])[service_id]


def queue_of(session: Session, service_id: int, day: date) -> list[Ticket]:
    """The call order that decides the place of a service's waiting tickets."""
    return call_sequence(session, shared_services(session, service_id), day)


def service_queue(session: Session, service_id: int, day: date) -> list[Ticket]:
    """A service's waiting tickets in the order they will be called (a visitor's place is its index)."""
    return [t for t in queue_of(session, service_id, day) if t.service_id == service_id]


def tickets_ahead(session: Session, ticket: Ticket) -> int:
    """How many waiting tickets of its service will be called before this waiting one.

    Under ``strict`` and ``priority_first`` the place is a count of the service's waiting
    tickets (one indexed statement, whatever the queue's length); under ``every_n`` the calls
    of the services sharing a counter decide it, so the whole call order is read.
    """
    policy = hall_settings(session).priority_policy
    if policy == PriorityPolicy.EVERY_N:
        order = service_queue(session, ticket.service_id, ticket.business_date)
        for ahead, queued in enumerate(order):
            if queued.id == ticket.id:
                return ahead
        return len(order)
    base = waiting_query([ticket.service_id], ticket.business_date)
    # Before it in the base order (queue time, then id: waiting_query's order, as a condition).
    before = or_(
        Ticket.queued_at < ticket.queued_at, and_(Ticket.queued_at == ticket.queued_at, Ticket.id < ticket.id)
    )
    if policy == PriorityPolicy.PRIORITY_FIRST:
        # Every waiting priority ticket first, then the others, each group in the base order.
        same_group = Ticket.priority.is_(ticket.priority)
        earlier = and_(before, same_group)
        return _count(
            session, base.where(earlier if ticket.priority else or_(Ticket.priority.is_(True), earlier))
        )
    return _count(session, base.where(before))


def _count(session: Session, query: Select[Ticket]) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
