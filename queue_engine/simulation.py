"""History generator: realistic past business days, made through the engine's own operations.

For each past working day of the hall a ``FakeClock`` walks through the day, event by event
(a discrete-event simulation), and every change goes through the functions a real hall uses:
``open_counter``, ``issue_ticket``, ``call_next``, ``recall``, ``mark_no_show``,
``start_service``, ``finish_visit``, ``transfer``, ``cancel``, ``rate_visit``,
``pause_counter``/``resume_counter``, ``close_counter``, ``update_complaint`` and, after
closing time, ``close_business_day``.  So the history obeys every rule of the queue and
writes the same rows and event log as real days would.

The model (all figures can be changed through ``SimulationSettings``):

* arrivals: a Poisson process whose rate follows an hour-of-day profile (morning and
  afternoon peaks, a lunch dip) and a weekday factor (Mondays busiest), scaled so that the
  peak hour loads the day's open counters to ``load``; services chosen by category shares;
* counters: each staffed by one clerk; some clerks are away on a given day; counters take
  lunch pauses in two shifts; they keep calling up to ``overtime_min`` after closing time;
* visits: walk to the counter 10 s + a log-normal ~35 s; service time log-normal per
  category (inquiry ~3 min, transaction ~8 min, complaint ~12 min, other ~2 min); a few
  no-shows (recalled once, then marked); inquiries sometimes transferred to a transaction;
* visitors with little patience cancel after a while; the rest still waiting at closing
  time expire with the day;
* ratings for most visits, worse after a wait over the service's target; complaints from
  the complaint service (and a few others), followed over the next days, some overdue.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import FakeClock, parse_hhmm
from queue_engine.core.errors import NoTicketWaiting, QueueError
from queue_engine.core.events import take_changes
from queue_engine.core.kinds import Category, CounterState, Outcome, Role, Source
from queue_engine.core.models import Complaint, Counter, Service, Ticket, User
from queue_engine.hall.calendar import hall_settings, is_working_day
from queue_engine.quality.complaints import update_complaint
from queue_engine.quality.ratings import rate_visit
from queue_engine.queue.calling import (
    call_next,
    finish_visit,
    mark_no_show,
    recall,
    start_service,
    transfer,
)
from queue_engine.queue.counters import close_counter, open_counter, pause_counter, resume_counter
from queue_engine.queue.day import close_business_day
from queue_engine.queue.tickets import cancel, issue_ticket
from queue_engine.queue.visit_record import VisitRecord

# Relative arrival intensity by local hour (the hall's busy mornings and mid-afternoons).
HOUR_PROFILE = {
    7: 0.3,
    8: 0.8,
    9: 1.3,
    10: 1.5,
    11: 1.2,
    12: 0.7,
    13: 0.8,
    14: 1.2,
    15: 1.3,
    16: 1.0,
    17: 0.5,
}
WEEKDAY_FACTOR = (1.15, 1.0, 0.95, 1.0, 1.1, 0.7, 0.6)
DEFAULT_OPENING = (("08:30", "17:30"),)


@dataclass(frozen=True)
class ServiceProfile:
    """How visitors of one category of service behave."""

    share: float  # of the arrivals, before normalising over the hall's services
    mean_service_s: float
    spread: float  # sigma of the log-normal service time
    transfer_to: str | None = None  # category
    transfer_p: float = 0.0


PROFILES = {
    Category.INQUIRY: ServiceProfile(35, 180, 0.6, Category.TRANSACTION, 0.06),
    Category.TRANSACTION: ServiceProfile(40, 480, 0.5, Category.COMPLAINT, 0.01),
    Category.COMPLAINT: ServiceProfile(5, 720, 0.45),
    Category.OTHER: ServiceProfile(20, 120, 0.5),
}


@dataclass(frozen=True)
class SimulationSettings:
    """What to simulate and how busy the hall is."""

    days: int = 30
    seed: int = 1
    end: date | None = None  # last simulated day; default: yesterday in the hall's timezone
    load: float = 0.9  # peak-hour arrivals / capacity of the counters open
    absence_p: float = 0.08
    no_show_p: float = 0.04
    impatient_p: float = 0.3
    patience_mean_min: float = 40
    rating_p: float = 0.65
    complaint_p: float = 0.01
    overtime_min: int = 30
    walk_s: float = 35
    gap_s: tuple[float, float] = (5, 25)


@dataclass
class SimulationResult:
    """What was made."""

    days: list[date] = field(default_factory=list)
    skipped: list[date] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        """Count something that happened."""
        self.counts[name] = self.counts.get(name, 0) + n


def _profile(service: Service) -> ServiceProfile:
    for category, profile in PROFILES.items():
        if service.category == category:
            return profile
    return PROFILES[Category.OTHER]


def _lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


@dataclass
class _CounterState:
    id: int
    staff_id: int
    services: set[str]
    busy: bool = False
    paused: bool = False
    closed: bool = True
    pause_wanted: tuple[datetime, datetime] | None = None


class _Day:
    """One simulated business day: its event queue and the engine calls each event makes."""

    def __init__(
        self,
        session: Session,
        clock: FakeClock,
        rng: random.Random,
        settings: SimulationSettings,
        result: SimulationResult,
        services: dict[str, Service],
        counters: list[_CounterState],
    ) -> None:
        self.session, self.clock, self.rng, self.settings, self.result = session, clock, rng, settings, result
        self.services = services
        self.counters = {c.id: c for c in counters}
        self.queue: list[tuple[datetime, int, str, tuple[Any, ...]]] = []
        self.seq = 0
        self.waiting: dict[str, str] = {}  # token -> service code
        self.issued: dict[str, tuple[str, datetime]] = {}  # token -> (code issued for, issued at)
        self.calls: dict[str, datetime] = {}
        self.closing_at = datetime.max.replace(tzinfo=clock.tz)
        self.hard_stop = self.closing_at
        by_category: dict[str, list[str]] = {}
        for code, service in services.items():
            by_category.setdefault(service.category, []).append(code)
        self.by_category = by_category

    def push(self, at: datetime, kind: str, *payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, kind, payload))

    def run(self) -> None:
        while self.queue:
            at, _seq, kind, payload = heapq.heappop(self.queue)
            self.clock.set(at)
            getattr(self, "on_" + kind)(*payload)

    # -- counters ---------------------------------------------------------------------------
    def on_open(self, cid: int) -> None:
        counter = self.counters[cid]
        open_counter(self.session, self.clock, cid, counter.staff_id)
        counter.closed = False
        self.try_call(counter)

    def on_pause(self, cid: int, until: datetime) -> None:
        counter = self.counters[cid]
        if counter.closed:
            return
        counter.pause_wanted = (self.clock.now(), until)
        if not counter.busy:
            self.start_pause(counter)

    def start_pause(self, counter: _CounterState) -> None:
        assert counter.pause_wanted is not None
        until = counter.pause_wanted[1]
        counter.pause_wanted = None
        pause_counter(self.session, self.clock, counter.id, counter.staff_id)
        counter.paused = True
        self.push(max(until, self.clock.now() + timedelta(minutes=5)), "resume", counter.id)

    def on_resume(self, cid: int) -> None:
        counter = self.counters[cid]
        resume_counter(self.session, self.clock, cid, counter.staff_id)
        counter.paused = False
        self.try_call(counter)

    def close(self, counter: _CounterState) -> None:
        if counter.paused:
            resume_counter(self.session, self.clock, counter.id, counter.staff_id)
            counter.paused = False
        close_counter(self.session, self.clock, counter.id, counter.staff_id, "")
        counter.closed = True

    def on_free(self, cid: int) -> None:
        counter = self.counters[cid]
        counter.busy = False
        if counter.pause_wanted is not None:
            self.start_pause(counter)
            return
        self.try_call(counter)

    def on_closing(self) -> None:
        for counter in self.counters.values():
            if not counter.closed and not counter.busy and not counter.paused:
                self.try_call(counter)

    def try_call(self, counter: _CounterState) -> None:
        if counter.closed or counter.paused or counter.busy:
            return
        now = self.clock.now()
        if now >= self.hard_stop:
            self.close(counter)
            return
        try:
            ticket = call_next(self.session, self.clock, counter.id, counter.staff_id)
        except NoTicketWaiting:
            if now >= self.closing_at:
                self.close(counter)
            return
        counter.busy = True
        token = ticket.token
        self.waiting.pop(token, None)
        self.calls.setdefault(token, now)
        self.result.add("called")
        rng, settings = self.rng, self.settings
        if rng.random() < settings.no_show_p:
            self.push(now + timedelta(seconds=rng.uniform(40, 70)), "recall", token, counter.id)
            self.push(now + timedelta(seconds=rng.uniform(110, 160)), "no_show", token, counter.id)
            return
        walk = 10 + _lognormal(rng, settings.walk_s, 0.5)
        self.push(now + timedelta(seconds=walk), "start", token, counter.id)

    def free_later(self, counter_id: int) -> None:
        gap = self.rng.uniform(*self.settings.gap_s)
        self.push(self.clock.now() + timedelta(seconds=gap), "free", counter_id)

    # -- visitors ---------------------------------------------------------------------------
    def on_arrive(self, code: str) -> None:
        rng = self.rng
        source = rng.choices((Source.KIOSK, Source.WEB, Source.API), (80, 15, 5))[0]
        ticket = issue_ticket(
            self.session,
            self.clock,
            code,
            lang=rng.choice(("zh", "zh", "zh", "en")),
            source=source,
            priority=rng.random() < 0.03,
        )
        self.result.add("issued")
        self.waiting[ticket.token] = code
        self.issued[ticket.token] = (code, ticket.issued_at)
        if rng.random() < self.settings.impatient_p:
            patience = rng.expovariate(1 / (self.settings.patience_mean_min * 60))
            self.push(self.clock.now() + timedelta(seconds=patience), "give_up", ticket.token)
        self.dispatch(code)

    def dispatch(self, code: str) -> None:
        for counter in self.counters.values():
            if code in counter.services and not (counter.busy or counter.paused or counter.closed):
                self.try_call(counter)
                if counter.busy:
                    return

    def on_give_up(self, token: str) -> None:
        if token in self.waiting and self.clock.now() < self.hard_stop:
            cancel(self.session, self.clock, token)
            del self.waiting[token]
            self.result.add("cancelled")

    def on_recall(self, token: str, cid: int) -> None:
        recall(self.session, self.clock, token, staff_id=self.counters[cid].staff_id, counter_id=cid)

    def on_no_show(self, token: str, cid: int) -> None:
        mark_no_show(self.session, self.clock, token, staff_id=self.counters[cid].staff_id, counter_id=cid)
        self.result.add("no_show")
        self.free_later(cid)

    def on_start(self, token: str, cid: int) -> None:
        ticket = start_service(
            self.session, self.clock, token, staff_id=self.counters[cid].staff_id, counter_id=cid
        )
        profile = _profile(self.services[ticket.service.code])
        duration = _lognormal(self.rng, profile.mean_service_s, profile.spread)
        self.push(self.clock.now() + timedelta(seconds=duration), "finish", token, cid, ticket.service.code)

    def on_finish(self, token: str, cid: int, code: str) -> None:
        rng, counter = self.rng, self.counters[cid]
        profile = _profile(self.services[code])
        targets = self.by_category.get(profile.transfer_to or "", [])
        if targets and rng.random() < profile.transfer_p:
            target = rng.choice(targets)
            transfer(self.session, self.clock, token, target, staff_id=counter.staff_id, counter_id=cid)
            self.result.add("transferred")
            self.waiting[token] = target
            self.free_later(cid)
            self.dispatch(target)
            return
        complaint = (
            self.services[code].category == Category.COMPLAINT or rng.random() < self.settings.complaint_p
        )
        outcome = rng.choices((Outcome.RESOLVED, Outcome.REFERRED, Outcome.FOLLOW_UP), (85, 8, 7))[0]
        today = self.clock.today()
        finish_visit(
            self.session,
            self.clock,
            token,
            VisitRecord(
                outcome=outcome,
                description="Simulated visit",
                complaint_department="Service quality office · 服务质量科" if complaint else None,
                complaint_priority=rng.choices(("low", "normal", "high"), (2, 6, 2))[0],
                complaint_due=today + timedelta(days=rng.choice((3, 5, 7))) if complaint else None,
            ),
            staff_id=counter.staff_id,
            counter_id=cid,
        )
        self.result.add("served")
        if complaint:
            self.result.add("complaints")
        if rng.random() < self.settings.rating_p:
            delay = rng.uniform(5, 90) if rng.random() < 0.8 else rng.uniform(600, 6 * 3600)
            self.push(self.clock.now() + timedelta(seconds=delay), "rate", token, code)
        self.free_later(cid)

    def on_rate(self, token: str, code: str) -> None:
        issued_code, issued_at = self.issued[token]
        waited = (self.calls.get(token, issued_at) - issued_at).total_seconds()
        late = waited > self.services[issued_code].target_wait_min * 60
        weights = (8, 10, 20, 32, 30) if late else (1, 2, 6, 21, 70)
        score = self.rng.choices((1, 2, 3, 4, 5), weights)[0]
        via = "counter" if self.rng.random() < 0.7 else "phone"
        rate_visit(self.session, self.clock, token, score, source=via)
        self.result.add("ratings")


def _opening(hall_hours: dict[str, Any], day: date) -> list[tuple[time, time]]:
    intervals = hall_hours.get(str(day.weekday())) if hall_hours else DEFAULT_OPENING
    return [(parse_hhmm(start), parse_hhmm(end)) for start, end in (intervals or [])]


def _follow_complaints(session: Session, clock: FakeClock, rng: random.Random, since: datetime) -> None:
    """Move the simulated complaints still unfinished on, as staff would during a day."""
    query = select(Complaint).where(Complaint.status != "closed", Complaint.created_at >= since)
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


def simulate(
    session: Session,
    tz: ZoneInfo,
    settings: SimulationSettings | None = None,
    progress: Callable[[date, SimulationResult], None] | None = None,
) -> SimulationResult:
    """Create past days of history in the hall of ``session`` (its services, counters, clerks).

    Commits once per simulated day.  Days that already hold tickets are skipped, so a second
    run adds nothing twice.  Counters not closed now (in use) are left out.
    """
    settings = settings or SimulationSettings()
    rng = random.Random(settings.seed)
    clock = FakeClock(tz=tz)
    end = settings.end or (datetime.now(tz).date() - timedelta(days=1))
    first = end - timedelta(days=settings.days - 1)
    history_start = datetime.combine(first, time(0), tz)
    services = {
        s.code: s
        for s in session.scalars(select(Service).where(Service.active.is_(True)).order_by(Service.sort_order))
    }
    clerks = list(
        session.scalars(
            select(User).where(User.role == Role.CLERK, User.active.is_(True)).order_by(User.username)
        )
    )
    counters = [
        c
        for c in session.scalars(select(Counter).where(Counter.active.is_(True)).order_by(Counter.id))
        if c.state == CounterState.CLOSED and c.services
    ]
    if not services or not counters or not clerks:
        raise QueueError("The hall needs active services, closed counters and clerks to simulate.")
    staffed = [
        _CounterState(c.id, clerks[i].id, {s.code for s in c.services if s.code in services})
        for i, c in enumerate(counters[: len(clerks)])
    ]
    weights = {code: _profile(s).share for code, s in services.items()}
    per_category: dict[str, int] = {}
    for s in services.values():
        per_category[s.category] = per_category.get(s.category, 0) + 1
    shares = {code: w / per_category[services[code].category] for code, w in weights.items()}
    total_share = sum(shares.values())
    mean_handling = (
        sum(share / total_share * _profile(services[code]).mean_service_s for code, share in shares.items())
        + 10
        + settings.walk_s
        + sum(settings.gap_s) / 2
    )
    peak = max(HOUR_PROFILE.values())
    codes, code_weights = list(shares), [shares[c] for c in shares]

    hall = hall_settings(session)
    hours = dict(hall.opening_hours or {})
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
        if not is_working_day(hall, day):
            continue
        intervals = _opening(hours, day)
        if not intervals:
            continue
        present = [c for c in staffed if rng.random() >= settings.absence_p] or staffed[:1]
        for c in present:
            c.busy = c.paused = False
            c.closed = True
            c.pause_wanted = None
        state = _Day(session, clock, rng, settings, result, services, present)

        def at(moment: time, on: date = day) -> datetime:
            return datetime.combine(on, moment, tz)

        opens, closes = at(intervals[0][0]), at(intervals[-1][1])
        state.closing_at = closes
        state.hard_stop = closes + timedelta(minutes=settings.overtime_min)
        clock.set(opens - timedelta(minutes=20))
        _follow_complaints(session, clock, rng, history_start)
        for i, c in enumerate(present):
            state.push(opens - timedelta(minutes=rng.uniform(1, 10)), "open", c.id)
            if len(intervals) == 1:
                lunch = at(time(11, 45)) if i % 2 == 0 else at(time(12, 30))
                state.push(lunch, "pause", c.id, lunch + timedelta(minutes=45))
        state.push(closes, "closing")
        capacity = len(present) * 3600 / mean_handling
        factor = WEEKDAY_FACTOR[day.weekday()] * max(0.5, rng.gauss(1.0, 0.08))
        for start, stop in intervals:
            moment = at(start)
            stop_at = at(stop)
            while True:
                hour = clock.local(moment).hour
                rate = settings.load * capacity * factor * HOUR_PROFILE.get(hour, 0.2) / peak / 3600
                moment += timedelta(seconds=rng.expovariate(rate))
                if moment >= stop_at:
                    break
                state.push(moment, "arrive", rng.choices(codes, code_weights)[0])
        state.run()
        clock.set(max(clock.now(), state.hard_stop + timedelta(minutes=30)))
        for c in present:
            if not c.closed:
                state.close(c)
        result.add("expired", close_business_day(session, clock, day))
        session.commit()
        take_changes(session)
        result.days.append(day)
        if progress is not None:
            progress(day, result)
    return result
