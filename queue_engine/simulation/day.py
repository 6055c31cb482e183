"""One simulated business day: an event queue walked by a ``FakeClock``, each event an engine call.

Every change goes through the functions a real hall uses (``open_counter``, ``issue_ticket``,
``call_next``, ``recall``, ``mark_no_show``, ``start_service``, ``finish_visit``, ``transfer``,
``cancel``, ``rate_visit``, ``pause_counter``/``resume_counter``, ``close_counter``), so the
history obeys every rule of the queue and writes the same rows and event log as real days.
Every ticket it issues is marked ``simulated``.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from queue_engine.booking.bookings import check_in
from queue_engine.booking.models import Booking
from queue_engine.core.clock import FakeClock
from queue_engine.core.errors import NoTicketWaiting
from queue_engine.core.kinds import Category, Outcome, Source
from queue_engine.core.models import Service, Ticket
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
from queue_engine.queue.tickets import cancel, issue_ticket
from queue_engine.queue.visit_record import VisitRecord
from queue_engine.simulation.model import SimulationResult, SimulationSettings, lognormal, profile


@dataclass
class SimCounter:
    """What the simulation knows of one staffed counter during a day."""

    id: int
    staff_id: int
    services: set[str]
    busy: bool = False
    paused: bool = False
    closed: bool = True
    pause_wanted: tuple[datetime, datetime] | None = None


class SimulatedDay:
    """One simulated business day: its event queue and the engine calls each event makes."""

    def __init__(
        self,
        session: Session,
        clock: FakeClock,
        rng: random.Random,
        settings: SimulationSettings,
        result: SimulationResult,
        services: dict[str, Service],
        counters: list[SimCounter],
    ) -> None:
        self.session, self.clock, self.rng, self.settings, self.result = session, clock, rng, settings, result
        self.services = services
        self.counters = {c.id: c for c in counters}
        self.queue: list[tuple[datetime, int, str, tuple[Any, ...]]] = []
        self.seq = 0
        self.waiting: dict[str, str] = {}  # token -> service code
        self.issued: dict[str, tuple[str, datetime]] = {}  # token -> (code issued for, issued at)
        self.calls: dict[str, datetime] = {}
        self.booked_seq = 0  # bookings made so far today (their names and phone numbers)
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

    def start_pause(self, counter: SimCounter) -> None:
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

    def close(self, counter: SimCounter) -> None:
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

    def try_call(self, counter: SimCounter) -> None:
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
        walk = 10 + lognormal(rng, settings.walk_s, 0.5)
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
        self.queue_visitor(ticket, code)

    def on_check_in(self, booking_id: int, code: str) -> None:
        booking = self.session.get(Booking, booking_id)
        assert booking is not None
        ticket = check_in(self.session, self.clock, booking)
        self.result.add("booked")
        self.queue_visitor(ticket, code)

    def queue_visitor(self, ticket: Ticket, code: str) -> None:
        """A visitor holding a new ticket waits (or gives up after a while) and a free counter calls."""
        rng = self.rng
        ticket.simulated = True
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
        behaviour = profile(self.services[ticket.service.code])
        duration = lognormal(self.rng, behaviour.mean_service_s, behaviour.spread)
        self.push(self.clock.now() + timedelta(seconds=duration), "finish", token, cid, ticket.service.code)

    def on_finish(self, token: str, cid: int, code: str) -> None:
        rng, counter = self.rng, self.counters[cid]
        behaviour = profile(self.services[code])
        targets = self.by_category.get(behaviour.transfer_to or "", [])
        if targets and rng.random() < behaviour.transfer_p:
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
