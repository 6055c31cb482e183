"""What screens and the API show, as plain dicts: no personal data ever enters these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from queue_engine.core.clock import Clock, iso
from queue_engine.core.kinds import ACTIVE_STATUSES, TicketStatus
from queue_engine.core.models import Counter, Service, Ticket, TicketEvent, Visit
from queue_engine.core.numbers import whole_number
from queue_engine.hall.calendar import hall_settings
from queue_engine.queue.counters import current_session
from queue_engine.queue.coverage import calls_now, served_service_ids
from queue_engine.queue.estimates import (
    Forecast,
    ServiceLoad,
    forecast,
    issued_forecasts,
    new_ticket_estimates,
    service_loads,
)
from queue_engine.queue.next_up import next_tickets
from queue_engine.queue.ordering import tickets_ahead
from queue_engine.queue.payloads import (
    CallEntry,
    CallsUpdate,
    CounterBoard,
    CounterRef,
    DisplaySnapshot,
    RatingPrompt,
    RecentCall,
    ServiceEntry,
    TicketView,
    WaitingPosition,
    WindowScreen,
)

RECENT_CALLS = 10


def service_list(
    session: Session, clock: Clock, lang: str, *, active_only: bool = True
) -> list[ServiceEntry]:
    """Services in kiosk order, with waiting count and estimated wait for a new ticket.

    The estimate is the one a ticket taken now would be issued with (``estimate_at_issue``).
    """
    loads = service_loads(session, clock)
    served = served_service_ids(session)
    query = select(Service).order_by(Service.sort_order, Service.code)
    if active_only:
        query = query.where(Service.active.is_(True))
    shown = session.scalars(query).all()
    estimates = new_ticket_estimates(session, clock, [s.id for s in shown])
    return [
        {
            "code": s.code,
            "prefix": s.prefix,
            "name": s.name(lang),
            "names": dict(s.names),
            "category": s.category,
            "active": s.active,
            "served": s.id in served,
            "waiting": loads[s.id].waiting,
            "estimated_wait_s": estimates[s.id],
        }
        for s in shown
    ]


def _counter_ref(counter: Counter | None) -> CounterRef | None:
    return None if counter is None else {"id": counter.id, "name": counter.name}


def ticket_view(
    session: Session, clock: Clock, ticket: Ticket, *, forecasts: dict[int, Forecast] | None = None
) -> TicketView:
    """A ticket as its holder and the API see it: position and estimate while waiting.

    Both come from the forward pass (``estimates.forecast``): ``ahead`` counts everyone who will
    be called before the ticket at the counters that can serve it, shared counters included.
    ``forecasts`` is a pass already made for the batch; without it one is made for the ticket's
    linked services.
    """
    waiting = ticket.status == TicketStatus.WAITING
    ahead: int | None = None
    estimate: int | None = None
    if waiting:
        found = (
            forecasts if forecasts is not None else forecast(session, clock, linked_to=ticket.service_id)
        ).get(ticket.id)
        if found is not None:
            ahead, estimate = found.ahead, found.wait_s
        else:  # a ticket of another business day still waiting: no pass covers it
            ahead = tickets_ahead(session, ticket)
    visit = ticket.visit if ticket.status == TicketStatus.DONE else None  # only a finished one has one
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


def issued_ticket_view(session: Session, clock: Clock, ticket: Ticket) -> TicketView:
    """``ticket_view`` of a ticket just issued in this session (the kiosk's, the API's and a
    check-in's answer): with the forecast it was issued with, so the queue is not played forward
    a second time (another ticket, a reprint or a retry's older one: a pass is made)."""
    return ticket_view(session, clock, ticket, forecasts=issued_forecasts(session, ticket))


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
    ids = [n for n in map(whole_number, counters.split(",")) if n is not None]
    return codes, ids


@dataclass(frozen=True)
class BoardArea:
    """The part of the hall a board shows: some services and counters, or all (None)."""

    services: frozenset[str] | None
    counters: frozenset[int] | None

    @classmethod
    def of(cls, services: Iterable[str] | None, counters: Iterable[int] | None) -> BoardArea:
        return cls(
            frozenset(s.upper() for s in services) if services else None,
            frozenset(counters) if counters else None,
        )

    def shows(self, ticket: Ticket) -> bool:
        if self.services is not None and ticket.service.code not in self.services:
            return False
        return self.counters is None or ticket.counter_id in self.counters


CALLS = ("called", "recalled")


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
    area = BoardArea.of(services, counters)
    # Every service and counter at once: the tickets' service and counter then need no query each.
    all_services = session.scalars(select(Service).order_by(Service.sort_order, Service.code)).all()
    all_counters = session.scalars(
        select(Counter).options(selectinload(Counter.services)).order_by(Counter.id)
    ).all()
    shown = [s for s in all_services if s.active and (area.services is None or s.code in area.services)]
    loads = loads if loads is not None else service_loads(session, clock)
    hall = hall_settings(session)
    return {
        "hall": dict(hall.name),
        "now_serving": _now_serving(session, today, area),
        "recent": _recent_calls(session, today, area),
        "waiting": {s.code: loads[s.id].waiting for s in shown},
        "services": [{"code": s.code, "names": dict(s.names)} for s in shown],
        "counters": _counter_boards(session, today, all_counters, area),
        "next": _next_numbers(session, today, shown, all_counters, area),
        "notice": dict(hall.notice or {}),
        "generated_at": iso(clock.now()),
    }


def _next_numbers(
    session: Session, today: date, shown: Sequence[Service], counters: Sequence[Counter], area: BoardArea
) -> dict[str, str]:
    """The number each shown service calls next, by code: only services a counter of the area serves."""
    serving = [c for c in counters if c.active and (area.counters is None or c.id in area.counters)]
    served = {s.id for c in serving for s in c.services}
    heads = next_tickets(session, [s.id for s in shown if s.id in served], today)
    return {s.code: heads[s.id].number for s in shown if s.id in heads}


def _now_serving(session: Session, today: date, area: BoardArea) -> list[CallEntry]:
    active = session.scalars(
        select(Ticket)
        .where(Ticket.status.in_(ACTIVE_STATUSES), Ticket.business_date == today)
        .order_by(Ticket.called_at.desc())
    ).all()
    return [call_entry(t) for t in active if area.shows(t)]


def _recent_calls(session: Session, today: date, area: BoardArea) -> list[RecentCall]:
    """The last calls of the day, one per number, newest first."""
    calls = session.execute(
        select(Ticket, TicketEvent.at, TicketEvent.counter_id)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(TicketEvent.type.in_(CALLS), Ticket.business_date == today)
        .order_by(TicketEvent.id.desc())
        .limit(RECENT_CALLS * 4)
    ).all()
    recent: list[RecentCall] = []
    seen: set[str] = set()
    for ticket, at, counter_id in calls:
        if ticket.number in seen or not area.shows(ticket):
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
    return recent


def _counter_boards(
    session: Session, today: date, counters: Sequence[Counter], area: BoardArea
) -> list[CounterBoard]:
    """Each counter with the last number it called today (kept until its next call)."""
    last_event = (
        select(func.max(TicketEvent.id))
        .where(TicketEvent.type.in_(CALLS), TicketEvent.counter_id.is_not(None))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.business_date == today)
        .group_by(TicketEvent.counter_id)
    )
    last_calls: dict[int | None, tuple[Ticket, datetime]] = {
        counter_id: (ticket, at)
        for ticket, at, counter_id in session.execute(
            select(Ticket, TicketEvent.at, TicketEvent.counter_id)
            .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
            .where(TicketEvent.id.in_(last_event))
        )
    }
    boards: list[CounterBoard] = []
    for counter in counters:
        codes = {s.code for s in counter.services}
        if not counter.active or (area.counters is not None and counter.id not in area.counters):
            continue
        if area.services is not None and not codes & area.services:
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
    session: Session, clock: Clock, service_id: int, forecasts: dict[int, Forecast]
) -> list[WaitingPosition]:
    """Every waiting ticket of a service in the order it is expected to be called, with its place.

    Place and estimate are the forward pass's (``forecasts``, made once for the batch): the
    place counts everyone called before the ticket at the counters that can serve it.
    """
    found = [
        waiting_position(token, number, forecasts[i])
        for i, token, number in waiting_today(session, clock, [service_id])
        if i in forecasts
    ]
    found.sort(key=lambda place: (place["ahead"], place["estimated_wait_s"]))
    return found


def waiting_today(session: Session, clock: Clock, service_ids: Iterable[int]) -> list[tuple[int, str, str]]:
    """(id, token, number) of the tickets of those services waiting today."""
    rows = session.execute(
        select(Ticket.id, Ticket.token, Ticket.number).where(
            Ticket.status == TicketStatus.WAITING,
            Ticket.business_date == clock.today(),
            Ticket.service_id.in_(list(service_ids)),
        )
    )
    return [(i, token, number) for i, token, number in rows]


def waiting_position(token: str, number: str, found: Forecast) -> WaitingPosition:
    """A waiting ticket's place as its phone is told it (``ticket:position``)."""
    return {
        "token": token,
        "number": number,
        "status": "waiting",
        "position": found.ahead + 1,
        "ahead": found.ahead,
        "estimated_wait_s": found.wait_s,
    }


def calls_update(session: Session, service_id: int, code: str) -> CallsUpdate:
    """What a phone waiting for a service shows as "Now called": the numbers at its counters."""
    calls = calls_now(session, service_id)
    return {"service": code, "calls": [{"counter": counter, "number": number} for counter, number in calls]}


RATING_SCREEN_MINUTES = 10


def awaiting_rating(session: Session, clock: Clock, counter_id: int) -> RatingPrompt | None:
    """The counter's last visit, if finished on the duty under way, in the last minutes, and not
    rated yet (the tablet's prompt): never a visit from before the counter was closed and reopened."""
    duty = current_session(session, counter_id)
    if duty is None:
        return None
    visit = session.scalars(
        select(Visit)
        .where(Visit.counter_id == counter_id, Visit.finished_at >= duty.opened_at)
        .order_by(Visit.finished_at.desc(), Visit.id.desc())
        .limit(1)
    ).first()
    if visit is None or visit.rating is not None:
        return None
    if clock.now() - visit.finished_at > timedelta(minutes=RATING_SCREEN_MINUTES):
        return None
    return {"token": visit.ticket.token, "number": visit.ticket.number, "service": visit.ticket.service.code}


def window_screen(session: Session, counter: Counter) -> WindowScreen:
    """What the screen above one window shows: the number at it now, paused or closed, the clerk."""
    ticket = session.scalars(
        select(Ticket)
        .where(Ticket.counter_id == counter.id, Ticket.status.in_(ACTIVE_STATUSES))
        .order_by(Ticket.called_at.desc())
        .limit(1)
    ).first()
    clerk = counter.staff if counter.state != "closed" else None
    return {
        "counter": {"id": counter.id, "name": counter.name},
        "state": str(counter.state),
        "number": ticket.number if ticket else None,
        "service": ticket.service.code if ticket else None,
        "status": str(ticket.status) if ticket else None,
        "clerk": {"name": clerk.display_name or clerk.username, "staff_number": clerk.username}
        if clerk
        else None,
    }
