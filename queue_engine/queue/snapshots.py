"""What screens and the API show, as plain dicts: no personal data ever enters these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock, iso
from queue_engine.core.kinds import ACTIVE_STATUSES, TicketStatus
from queue_engine.core.models import Counter, Service, Ticket, TicketEvent, Visit
from queue_engine.hall.calendar import hall_settings
from queue_engine.queue.estimates import ServiceLoad, service_loads
from queue_engine.queue.ordering import service_queue, tickets_ahead
from queue_engine.queue.payloads import (
    CallEntry,
    CounterBoard,
    CounterRef,
    DisplaySnapshot,
    RatingPrompt,
    RecentCall,
    ServiceEntry,
    TicketView,
    WaitingPosition,
)

RECENT_CALLS = 10


def service_list(
    session: Session, clock: Clock, lang: str, *, active_only: bool = True
) -> list[ServiceEntry]:
    """Services in kiosk order, with waiting count and estimated wait for a new ticket."""
    loads = service_loads(session, clock)
    query = select(Service).order_by(Service.sort_order, Service.code)
    if active_only:
        query = query.where(Service.active.is_(True))
    return [
        {
            "code": s.code,
            "prefix": s.prefix,
            "name": s.name(lang),
            "names": dict(s.names),
            "category": s.category,
            "active": s.active,
            "waiting": loads[s.id].waiting,
            "estimated_wait_s": loads[s.id].new_ticket_estimate,
        }
        for s in session.scalars(query)
    ]


def _counter_ref(counter: Counter | None) -> CounterRef | None:
    return None if counter is None else {"id": counter.id, "name": counter.name}


def ticket_view(
    session: Session, clock: Clock, ticket: Ticket, *, loads: dict[int, ServiceLoad] | None = None
) -> TicketView:
    """A ticket as its holder and the API see it: position and estimate while waiting."""
    waiting = ticket.status == TicketStatus.WAITING
    ahead = tickets_ahead(session, ticket) if waiting else None
    estimate = None
    if waiting and ahead is not None:
        load = (loads or service_loads(session, clock, only=ticket.service_id))[ticket.service_id]
        estimate = load.estimate(ahead)
    visit = ticket.visit
    return {
        "token": ticket.token,
        "number": ticket.number,
        "service": ticket.service.code,
        "service_name": dict(ticket.service.names),
        "status": str(ticket.status),
        "position": None if ahead is None else ahead + 1,
        "ahead": ahead,
        "estimated_wait_s": estimate,
        "counter": _counter_ref(ticket.counter) if ticket.status in ACTIVE_STATUSES else None,
        "issued_at": iso(ticket.issued_at),
        "called_at": iso(ticket.called_at),
        "started_at": iso(ticket.started_at),
        "finished_at": iso(ticket.finished_at),
        "call_count": ticket.call_count,
        "priority": ticket.priority,
        "lang": ticket.lang,
        "business_date": ticket.business_date.isoformat(),
        "transferred_from": ticket.transferred_from.code if ticket.transferred_from else None,
        "rated": visit is not None and visit.rating is not None,
        "can_rate": visit is not None and visit.rating is None,
    }


def call_entry(ticket: Ticket) -> CallEntry:
    """A call as boards show and announce it: number, counter, how often called, the visitor's language."""
    counter = ticket.counter
    return {
        "number": ticket.number,
        "service": ticket.service.code,
        "counter": counter.name if counter else None,
        "counter_id": ticket.counter_id,
        "called_at": iso(ticket.called_at),
        "call_count": ticket.call_count,
        "lang": ticket.lang,
    }


def board_filter(services: str, counters: str) -> tuple[list[str], list[int]]:
    """A board's area from ``?services=A,b`` and ``?counters=1,2``: service codes and counter ids.

    Anything that is not a code or an id is dropped, so a mistyped link shows the whole hall.
    """
    codes = [s.strip().upper() for s in services.split(",") if s.strip()]
    ids = [int(c) for c in counters.split(",") if c.strip().isdigit()]
    return codes, ids


def display_snapshot(
    session: Session,
    clock: Clock,
    *,
    services: Iterable[str] | None = None,
    counters: Iterable[int] | None = None,
    loads: dict[int, ServiceLoad] | None = None,
) -> DisplaySnapshot:
    """What a hall board shows: the active call per counter, the last calls, waiting counts."""
    today = clock.today()
    service_filter = {s.upper() for s in services} if services else None
    counter_filter = set(counters) if counters else None

    def shown(ticket: Ticket) -> bool:
        if service_filter is not None and ticket.service.code not in service_filter:
            return False
        return counter_filter is None or ticket.counter_id in counter_filter

    active = session.scalars(
        select(Ticket)
        .where(Ticket.status.in_(ACTIVE_STATUSES), Ticket.business_date == today)
        .order_by(Ticket.called_at.desc())
    ).all()
    now_serving = [call_entry(t) for t in active if shown(t)]
    calls = session.execute(
        select(Ticket, TicketEvent.at, TicketEvent.counter_id)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(TicketEvent.type.in_(("called", "recalled")), Ticket.business_date == today)
        .order_by(TicketEvent.id.desc())
        .limit(RECENT_CALLS * 4)
    ).all()
    recent: list[RecentCall] = []
    seen: set[str] = set()
    for ticket, at, counter_id in calls:
        if ticket.number in seen or not shown(ticket):
            continue
        seen.add(ticket.number)
        counter = session.get(Counter, counter_id) if counter_id else None
        recent.append(
            {
                "number": ticket.number,
                "service": ticket.service.code,
                "counter": counter.name if counter else None,
                "counter_id": counter_id,
                "called_at": iso(at),
                "status": str(ticket.status),
            }
        )
        if len(recent) >= RECENT_CALLS:
            break
    loads = loads if loads is not None else service_loads(session, clock)
    services_shown = [
        s
        for s in session.scalars(
            select(Service).where(Service.active.is_(True)).order_by(Service.sort_order, Service.code)
        )
        if service_filter is None or s.code in service_filter
    ]
    hall = hall_settings(session)
    return {
        "hall": dict(hall.name),
        "now_serving": now_serving,
        "recent": recent,
        "waiting": {s.code: loads[s.id].waiting for s in services_shown},
        "services": [{"code": s.code, "names": dict(s.names)} for s in services_shown],
        "counters": _counter_boards(session, today, counter_filter, service_filter),
        "generated_at": iso(clock.now()),
    }


def _counter_boards(
    session: Session, today: date, counter_filter: set[int] | None, service_filter: set[str] | None
) -> list[CounterBoard]:
    """Each counter with the last number it called today (kept until its next call)."""
    last_calls: dict[int, tuple[Ticket, datetime]] = {}
    for ticket, at, counter_id in session.execute(
        select(Ticket, TicketEvent.at, TicketEvent.counter_id)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(TicketEvent.type.in_(("called", "recalled")), Ticket.business_date == today)
        .order_by(TicketEvent.id.desc())
        .limit(500)
    ):
        if counter_id is not None and counter_id not in last_calls:
            last_calls[counter_id] = (ticket, at)
    boards: list[CounterBoard] = []
    for counter in session.scalars(select(Counter).where(Counter.active.is_(True)).order_by(Counter.id)):
        if counter_filter is not None and counter.id not in counter_filter:
            continue
        codes = {s.code for s in counter.services}
        if service_filter is not None and not codes & service_filter:
            continue
        last = last_calls.get(counter.id)
        boards.append(
            {
                "id": counter.id,
                "name": counter.name,
                "state": str(counter.state),
                "services": sorted(codes),
                "number": last[0].number if last else None,
                "service": last[0].service.code if last else None,
                "called_at": iso(last[1]) if last else None,
            }
        )
    return boards


def waiting_positions(
    session: Session, clock: Clock, service_id: int, load: ServiceLoad
) -> list[WaitingPosition]:
    """Every waiting ticket of a service in call order, with its position and estimate.

    The position counts the tickets of the service called before it (see queue/ordering.py).
    """
    order = service_queue(session, service_id, clock.today())
    rows = [(ahead, t.token, t.number) for ahead, t in enumerate(order)]
    return [
        {
            "token": token,
            "number": number,
            "status": "waiting",
            "position": ahead + 1,
            "ahead": ahead,
            "estimated_wait_s": load.estimate(ahead),
        }
        for ahead, token, number in rows
    ]


RATING_SCREEN_MINUTES = 10


def awaiting_rating(session: Session, clock: Clock, counter_id: int) -> RatingPrompt | None:
    """The counter's last visit, if finished in the last minutes and not rated yet (the tablet's prompt)."""
    visit = session.scalars(
        select(Visit)
        .where(Visit.counter_id == counter_id)
        .order_by(Visit.finished_at.desc(), Visit.id.desc())
        .limit(1)
    ).first()
    if visit is None or visit.rating is not None:
        return None
    if clock.now() - visit.finished_at > timedelta(minutes=RATING_SCREEN_MINUTES):
        return None
    return {"token": visit.ticket.token, "number": visit.ticket.number, "service": visit.ticket.service.code}
