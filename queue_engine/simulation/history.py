"""History generator: realistic past business days, made through the engine's own operations.

For each past working day of the hall a ``SimulatedDay`` (``simulation/day.py``) walks through
the day event by event, and after closing time ``close_business_day`` ends it.

The model (all figures can be changed through ``SimulationSettings``, ``simulation/model.py``):

* arrivals: a Poisson process whose rate follows an hour-of-day profile (morning and
  afternoon peaks, a lunch dip) and a weekday factor (Mondays busiest), scaled so that the
  peak hour loads the day's open counters to ``load``; services chosen by category shares;
* counters: each staffed by one clerk; some clerks are away on a given day; counters take
  lunch pauses in two shifts; they keep calling up to ``overtime_min`` after closing time;
* visits: walk to the counter 10 s + a log-normal ~35 s; service time log-normal per
  category (inquiry ~3 min, transaction ~8 min, complaint ~12 min, other ~2 min); a few
  no-shows (recalled once, then marked); inquiries sometimes transferred to a transaction;
* booked visitors: for a service taking bookings, ``booked_p`` of its arrivals book the slot
  of their arrival time before the hall opens (``book``, while the slot has places; else they
  come as walk-ins) and check in from 20 minutes before the slot's start to 10 after
  (``check_in``: the ticket queues from the slot's start);
* visitors with little patience cancel after a while; the rest still waiting at closing
  time expire with the day;
* ratings for most visits, worse after a wait over the service's target; complaints from
  the complaint service (and a few others), followed over the next days, some overdue.

Only a hall without real activity is simulated (``simulation/guard.py``); the counters used
get back their state as it was, so no row the simulator did not create is left changed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.booking.bookings import book
from queue_engine.booking.models import BookingSettings
from queue_engine.core.clock import FakeClock, parse_hhmm
from queue_engine.core.errors import QueueError
from queue_engine.core.events import take_changes
from queue_engine.core.kinds import Role
from queue_engine.core.models import Complaint, Counter, Service, Ticket, User, Visit
from queue_engine.hall.calendar import hall_settings, is_working_day
from queue_engine.quality.complaints import update_complaint
from queue_engine.queue.coverage import served_service_ids
from queue_engine.queue.day import close_business_day
from queue_engine.simulation.day import SimCounter, SimulatedDay
from queue_engine.simulation.guard import refuse_hall_in_use
from queue_engine.simulation.model import (
    DEFAULT_OPENING,
    HOUR_PROFILE,
    WEEKDAY_FACTOR,
    SimulationResult,
    SimulationSettings,
    profile,
)


@dataclass
class _Hall:
    """What the simulation uses of the hall: services, staffed counters, the arrival mix."""

    services: dict[str, Service]
    counters: list[Counter]
    staffed: list[SimCounter]
    codes: list[str]
    code_weights: list[float]
    mean_handling: float  # seconds a counter spends per visitor, walk and gap included
    bookable: dict[str, int]  # code -> slot minutes, of the services taking bookings


def _load_hall(session: Session, settings: SimulationSettings) -> _Hall:
    served = served_service_ids(session)  # a service no counter serves takes no tickets
    services = {
        s.code: s
        for s in session.scalars(select(Service).where(Service.active.is_(True)).order_by(Service.sort_order))
        if s.id in served
    }
    clerks = list(
        session.scalars(
            select(User).where(User.role == Role.CLERK, User.active.is_(True)).order_by(User.username)
        )
    )
    counters = [
        c
        for c in session.scalars(select(Counter).where(Counter.active.is_(True)).order_by(Counter.id))
        if c.services
    ]
    if not services or not counters or not clerks:
        raise QueueError("The hall needs active services, counters and clerks to simulate.")
    staffed = [
        SimCounter(c.id, clerks[i].id, {s.code for s in c.services if s.code in services})
        for i, c in enumerate(counters[: len(clerks)])
    ]
    per_category: dict[str, int] = {}
    for s in services.values():
        per_category[s.category] = per_category.get(s.category, 0) + 1
    shares = {code: profile(s).share / per_category[s.category] for code, s in services.items()}
    total_share = sum(shares.values())
    mean_handling = (
        sum(share / total_share * profile(services[code]).mean_service_s for code, share in shares.items())
        + 10
        + settings.walk_s
        + sum(settings.gap_s) / 2
    )
    bookable = {}
    for code, service in services.items():
        booking = session.get(BookingSettings, service.id)
        if booking is not None and booking.bookable:
            bookable[code] = booking.slot_minutes
    return _Hall(services, counters, staffed, list(shares), list(shares.values()), mean_handling, bookable)


def _opening(hall_hours: dict[str, Any], day: date) -> list[tuple[time, time]]:
    intervals = hall_hours.get(str(day.weekday())) if hall_hours else DEFAULT_OPENING
    return [(parse_hhmm(start), parse_hhmm(end)) for start, end in (intervals or [])]


def _follow_complaints(session: Session, clock: FakeClock, rng: random.Random, since: datetime) -> None:
    """Move the simulated complaints still unfinished on, as staff would during a day."""
    query = (
        select(Complaint)
        .join(Visit, Complaint.visit_id == Visit.id)
        .join(Ticket, Visit.ticket_id == Ticket.id)
        .where(Ticket.simulated.is_(True), Complaint.status != "closed", Complaint.created_at >= since)
    )
    for complaint in session.scalars(query.order_by(Complaint.id)):
        roll = rng.random()
        try:
            if complaint.status == "open" and roll < 0.5:
                update_complaint(session, clock, complaint.id, status="investigating")
            elif complaint.status == "investigating" and roll < 0.35:
                update_complaint(
                    session, clock, complaint.id, status="resolved", resolution="Explained and corrected."
                )
            elif complaint.status == "resolved" and roll < 0.5:
                update_complaint(
                    session, clock, complaint.id, status="closed", follow_up_result="Visitor satisfied."
                )
        except QueueError:
            continue


def _schedule(
    state: SimulatedDay, hall: _Hall, present: list[SimCounter], intervals: list[tuple[time, time]]
) -> None:
    """Push the day's counter openings, lunch pauses, closing and visitor arrivals."""
    clock, rng, settings, day = state.clock, state.rng, state.settings, state.clock.today()

    def at(moment: time) -> datetime:
        return datetime.combine(day, moment, clock.tz)

    opens = at(intervals[0][0])
    for i, c in enumerate(present):
        state.push(opens - timedelta(minutes=rng.uniform(1, 10)), "open", c.id)
        if len(intervals) == 1:
            lunch = at(time(11, 45)) if i % 2 == 0 else at(time(12, 30))
            state.push(lunch, "pause", c.id, lunch + timedelta(minutes=45))
    state.push(state.closing_at, "closing")
    capacity = len(present) * 3600 / hall.mean_handling
    factor = WEEKDAY_FACTOR[day.weekday()] * max(0.5, rng.gauss(1.0, 0.08))
    peak = max(HOUR_PROFILE.values())
    for start, stop in intervals:
        moment, stop_at = at(start), at(stop)
        while True:
            rate = settings.load * capacity * factor * HOUR_PROFILE.get(clock.local(moment).hour, 0.2)
            moment += timedelta(seconds=rng.expovariate(rate / peak / 3600))
            if moment >= stop_at:
                break
            code = rng.choices(hall.codes, hall.code_weights)[0]
            if code in hall.bookable and rng.random() < settings.booked_p:
                _book_ahead(state, code, moment, hall.bookable[code])
            else:
                state.push(moment, "arrive", code)


def _book_ahead(state: SimulatedDay, code: str, moment: datetime, slot_minutes: int) -> None:
    """A visitor who booked the slot of ``moment`` (before the day): they come to check in near its start.

    A full slot (or one not open for booking) sends them as a walk-in instead.
    """
    clock, rng = state.clock, state.rng
    local = clock.local(moment)
    minute = local.hour * 60 + local.minute
    start = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        minutes=minute - minute % slot_minutes
    )
    state.booked_seq += 1
    day = clock.today()
    try:
        with state.session.begin_nested():
            booking = book(
                state.session,
                clock,
                code,
                start,
                name=f"Simulated visitor {state.booked_seq}",
                phone=f"139{day:%m%d}{state.booked_seq:04d}",
                lang=rng.choice(("zh", "zh", "zh", "en")),
            )
    except QueueError:
        state.push(moment, "arrive", code)
        return
    early, late = state.settings.booked_early_min
    state.push(start + timedelta(minutes=rng.uniform(early, late)), "check_in", booking.id, code)


def _simulate_day(
    state: SimulatedDay, hall: _Hall, present: list[SimCounter], intervals: list[tuple[time, time]]
) -> None:
    """Run one working day from before opening to after the overtime, and close it."""
    session, clock, day = state.session, state.clock, state.clock.today()
    opens = datetime.combine(day, intervals[0][0], clock.tz)
    state.closing_at = datetime.combine(day, intervals[-1][1], clock.tz)
    state.hard_stop = state.closing_at + timedelta(minutes=state.settings.overtime_min)
    clock.set(opens - timedelta(minutes=20))
    _schedule(state, hall, present, intervals)
    state.run()
    clock.set(max(clock.now(), state.hard_stop + timedelta(minutes=30)))
    for c in present:
        if not c.closed:
            state.close(c)
    state.result.add("expired", close_business_day(session, clock, day))


def simulate(
    session: Session,
    tz: ZoneInfo,
    settings: SimulationSettings | None = None,
    progress: Callable[[date, SimulationResult], None] | None = None,
) -> SimulationResult:
    """Create past days of history in the hall of ``session`` (its services, counters, clerks).

    Refuses (``HallInUse``, nothing written) a hall holding real activity.  Commits once per
    simulated day.  Days that already hold tickets are skipped, so a second run adds nothing
    twice.  The counters used are left as they were found (closed, same ``state_since``).
    """
    settings = settings or SimulationSettings()
    refuse_hall_in_use(session)
    rng = random.Random(settings.seed)
    clock = FakeClock(tz=tz)
    today = datetime.now(tz).date()
    end = settings.end or (today - timedelta(days=1))
    if end >= today:
        raise QueueError("simulate writes past days only: the last day must be before today.")
    first = end - timedelta(days=settings.days - 1)
    hall = _load_hall(session, settings)
    found_as = {c.id: (c.staff_id, c.state_since) for c in hall.counters}
    calendar = hall_settings(session)
    hours = dict(calendar.opening_hours or {})
    result = SimulationResult()
    existing = set(
        session.scalars(
            select(Ticket.business_date)
            .where(Ticket.business_date.between(first, end))
            .group_by(Ticket.business_date)
        )
    )
    for offset in range((end - first).days + 1):
        day = first + timedelta(days=offset)
        if day in existing:
            result.skipped.append(day)
            continue
        intervals = _opening(hours, day) if is_working_day(calendar, day) else []
        if not intervals:
            continue
        present = [c for c in hall.staffed if rng.random() >= settings.absence_p] or hall.staffed[:1]
        for c in present:
            c.busy = c.paused = False
            c.closed = True
            c.pause_wanted = None
        state = SimulatedDay(session, clock, rng, settings, result, hall.services, present)
        clock.set(datetime.combine(day, intervals[0][0], tz) - timedelta(minutes=20))
        _follow_complaints(session, clock, rng, datetime.combine(first, time(0), tz))
        _simulate_day(state, hall, present, intervals)
        for counter in hall.counters:
            counter.staff_id, counter.state_since = found_as[counter.id]
        session.commit()
        take_changes(session)
        result.days.append(day)
        if progress is not None:
            progress(day, result)
    return result
