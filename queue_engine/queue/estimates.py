"""Wait estimates: the forward pass every screen shows, and the estimator before it.

What the visitor is shown (the phone, the API, the live pushes, the kiosk) is the forward pass
(``forecast``, ``estimate_at_issue``, ``new_ticket_estimates``; DESIGN §12), described below.

``ServiceLoad`` is the estimator before issue 17, kept so bench/estimates.py can measure both
on the same days.  For a ticket with ``ahead`` waiting tickets of its service before it:

* ``c`` = counters that are open (not paused) and serve the service, at least 1 (a hall with
  none open still gets an estimate, as if one counter opened);
* ``idle`` = those of them with no active ticket, who will call straight away;
* ``m`` = mean handling time (call to finish) of the service's last 20 finished tickets of
  the past 7 days; 300 s when there are none;
* estimate = 0 when ``ahead < idle``, else ``m * (ahead - idle + 1) / c``.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import (
    BindParameter,
    DateTime,
    Executable,
    bindparam,
    func,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.kinds import ACTIVE_STATUSES, CounterState, PriorityPolicy, Source, TicketStatus
from queue_engine.core.models import (
    Counter,
    CounterPause,
    CounterSession,
    Hall,
    Service,
    Ticket,
    Visit,
    counter_services,
)
from queue_engine.hall.calendar import hall_settings, next_opening
from queue_engine.queue.ordering import in_call_order, normal_streak

DEFAULT_HANDLING_S = 300.0
RECENT_TICKETS = 20
RECENT_DAYS = 7


@dataclass(frozen=True)
class ServiceLoad:
    """What an estimate for one service is made from."""

    waiting: int
    open_counters: int
    idle_counters: int
    mean_handling_s: float

    def estimate(self, ahead: int) -> int:
        """Seconds a ticket with ``ahead`` tickets before it may expect to wait."""
        if ahead < self.idle_counters:
            return 0
        counters = max(self.open_counters, 1)
        return round(self.mean_handling_s * (ahead - self.idle_counters + 1) / counters)

    @property
    def new_ticket_estimate(self) -> int:
        """Seconds a ticket taken now may expect to wait."""
        return self.estimate(self.waiting)


def mean_handling_s(session: Session, clock: Clock, service_id: int) -> float:
    """Mean call-to-finish time of a service's recent finished tickets."""
    return mean_handling_times(session, clock, [service_id])[service_id]


def mean_handling_times(session: Session, clock: Clock, service_ids: list[int]) -> dict[int, float]:
    """Mean call-to-finish time of each service's recent finished tickets, in one statement.

    Each service's last ``RECENT_TICKETS`` are read by ``ix_tickets_recent_done`` (service,
    status, finish time), so the cost does not grow with the week's tickets.
    """
    recent = _recent_tickets(session, clock, service_ids, RECENT_TICKETS)
    return {
        sid: sum(found.spans) / len(found.spans) if found.spans else DEFAULT_HANDLING_S
        for sid, found in recent.items()
    }


@functools.lru_cache(maxsize=256)
def _recent_statement(service_ids: tuple[int, ...], per_service: int, cancelled: bool) -> Executable:
    """``_recent_tickets``'s statement, built once per set of services (building it is most of its cost)."""
    since: BindParameter[datetime] = bindparam("since")
    columns = (Ticket.service_id, Ticket.status, Ticket.issued_at, Ticket.called_at)
    recent = [
        select(*columns, Ticket.finished_at.label("ended_at"))
        .where(
            Ticket.service_id == service_id, Ticket.status == TicketStatus.DONE, Ticket.finished_at >= since
        )
        .order_by(Ticket.finished_at.desc())
        .limit(per_service)
        .subquery()
        for service_id in service_ids
    ]
    if cancelled:
        recent.append(
            select(*columns, Ticket.closed_at.label("ended_at"))
            .where(
                Ticket.service_id.in_(service_ids),
                Ticket.status == TicketStatus.CANCELLED,
                Ticket.closed_at >= since,
            )
            .order_by(Ticket.closed_at.desc())
            .limit(per_service)
            .subquery()
        )
    return union_all(*(select(part) for part in recent))


@dataclass
class _Recent:
    """What a service's recent tickets tell: how long its visits took, and who gave up waiting."""

    spans: list[float] = field(default_factory=list)  # call to finish, of its last finished tickets
    # (finish, issue, issue to call) of those; (cancelled, issue, seconds waited) of its cancelled
    waits: list[tuple[datetime, datetime, float]] = field(default_factory=list)
    gave_up: list[tuple[datetime, datetime, float]] = field(default_factory=list)
    since: datetime | None = None  # what its tickets read cover: from its earliest finish on


def _recent_tickets(
    session: Session, clock: Clock, service_ids: list[int], per_service: int, *, cancelled: bool = False
) -> dict[int, _Recent]:
    """Each service's last ``per_service`` finished tickets of the week (and, with ``cancelled``,
    the services' last ``per_service`` cancelled ones), in one statement (the finished read by
    ``ix_tickets_recent_done``: service, status, finish time, so the cost does not grow with the
    week's tickets)."""
    found: dict[int, _Recent] = {service_id: _Recent() for service_id in service_ids}
    if not service_ids:
        return found
    # Finished today or in the 6 days before (a ticket finishes on its business day).
    since, _ = clock.day_bounds(clock.today() - timedelta(days=RECENT_DAYS - 1))
    oldest_cancel: datetime | None = None
    gave_up = 0
    statement = _recent_statement(tuple(service_ids), per_service, cancelled)
    for service_id, status, issued, called, ended in session.execute(statement, {"since": since}):
        tickets = found[service_id]
        if status == TicketStatus.CANCELLED:
            gave_up += 1
            oldest_cancel = min(ended, oldest_cancel or ended)
            tickets.gave_up.append((ended, issued, (ended - issued).total_seconds()))
        elif called and ended:
            tickets.spans.append((ended - called).total_seconds())
            tickets.waits.append((ended, issued, max((called - issued).total_seconds(), 0.0)))
            tickets.since = min(ended, tickets.since or ended)
    if gave_up == per_service and oldest_cancel is not None:
        # The cancellations read stop at their limit: before the oldest of them, some are missing.
        for tickets in found.values():
            tickets.since = max(tickets.since, oldest_cancel) if tickets.since else None
    return found


def service_loads(session: Session, clock: Clock, *, only: int | None = None) -> dict[int, ServiceLoad]:
    """The load of every service (or of the service ``only``), keyed by service id."""
    today = clock.today()
    waiting: dict[int, int] = {
        service_id: count
        for service_id, count in session.execute(
            select(Ticket.service_id, func.count())
            .where(Ticket.status == TicketStatus.WAITING, Ticket.business_date == today)
            .group_by(Ticket.service_id)
        )
    }
    busy_counters = set(
        session.scalars(
            select(Ticket.counter_id).where(
                Ticket.status.in_(ACTIVE_STATUSES), Ticket.counter_id.is_not(None)
            )
        )
    )
    serving: dict[int, list[int]] = {}  # service id -> the open counters serving it
    for counter_id, service_id in session.execute(
        select(Counter.id, counter_services.c.service_id)
        .join(counter_services, counter_services.c.counter_id == Counter.id)
        .where(Counter.state == CounterState.OPEN, Counter.active.is_(True))
    ):
        serving.setdefault(service_id, []).append(counter_id)
    services = select(Service.id) if only is None else select(Service.id).where(Service.id == only)
    service_ids = list(session.scalars(services))
    means = mean_handling_times(session, clock, service_ids)
    loads = {}
    for service_id in service_ids:
        counters = serving.get(service_id, [])
        loads[service_id] = ServiceLoad(
            waiting=waiting.get(service_id, 0),
            open_counters=len(counters),
            idle_counters=sum(1 for c in counters if c not in busy_counters),
            mean_handling_s=means[service_id],
        )
    return loads


# -- The forward estimate (DESIGN §12) ------------------------------------------------------------
#
# The calls ahead are played forward: every open counter becomes free when its current visit is
# expected to end (now, if idle; a paused one when its usual pause is over, ``usual_pauses``;
# one that would be free inside a pause it takes most days at that time, lunch, at that
# pause's end; while the hall is closed by its opening hours, the closed counters that usually
# go on duty at its opening, ``_opening_counters``) and then
# calls, as ``call_next`` does, the first ticket of the one call order
# (``ordering.in_call_order``) among the services it serves; the visit takes that service's
# capped mean handling time weighed with its no-shows (who hold a counter only until marked),
# times the chance its visitor has not given up by then (the
# visitors' patience, ``Patience``: in a long queue some ahead cancel).  A ticket's estimate is
# the moment it is called, its place the number of tickets called before it at counters that
# can serve it (those who may give up included: they are there now).  One pass gives every
# waiting ticket both.
#
# A booked ticket checked in before its slot queues from the slot's start: the walk-ins who
# come in until then are called before it.  When such a ticket waits, the pass foresees them:
# each linked service's walk-ins arrive at its rate of the last half hour, each callable from
# its arrival only (a counter with nobody else to call calls the booked ticket at once, as
# ``call_next`` does).  They take counters' time but are nobody's place: not there yet.
#
# A transferred visitor queues again in the new service with their old queue time, so ahead of
# most: each visit played brings back the share of a visit of the service its visitors were
# transferred to last week (``_transfer_shares``), at its place, callable from its end; nobody's
# place either (they were counted once).

MIN_AT_RISK = 20  # visitors watched at a wait, at least, for who gave up then to count (``patience_of``)
NO_SHOW_MIN_CALLS = 20  # a service's calls of the past week, at least, for its no-show share to count
FORWARD_RECENT = 40  # finished tickets per service the handling time is taken from (and cancelled
# tickets of the linked services the patience is taken from)
TURNAROUND_S = 15.0  # a counter's time between one visit's end and its next call
OUTLIER_FACTOR = 4.0  # a handling time counts at most this many times the median


@dataclass(frozen=True)
class Forecast:
    """A waiting ticket's expected wait from now and how many will be called before it."""

    wait_s: int
    ahead: int


def robust_handling_times(
    recent: dict[int, _Recent], no_shows: dict[int, tuple[float, float]] | None = None
) -> dict[int, float]:
    """Each service's expected counter time per call, plus turnaround: the capped mean
    call-to-finish time of its recent finished tickets, weighed with its no-shows (``no_shows``:
    per service, the share of last week's calls that were no-shows and their mean time from call
    to being marked, ``_no_show_shares``).

    A no-show holds the counter only until the clerk marks it (a recall or two, a couple of
    minutes), not a whole visit: counted as one, every call ahead was about 3 % long.
    """
    found = {}
    for sid, tickets in recent.items():
        visit = _capped_mean(tickets.spans)
        share, marked = (no_shows or {}).get(sid, (0.0, 0.0))
        found[sid] = (1 - share) * visit + share * marked + TURNAROUND_S
    return found


@dataclass(frozen=True)
class Patience:
    """How long visitors wait before giving up: the share still waiting after each wait (Kaplan-Meier).

    Read from the recent tickets of some services: those cancelled gave up after their wait,
    those called had not given up by their call (a lower bound of their patience).  Beyond the
    longest wait seen, nobody more is expected to give up; nor beyond the first wait at which
    fewer than ``MIN_AT_RISK`` visitors were watched (``patience_of``).
    """

    waits: tuple[float, ...] = ()  # the waits after which someone gave up, ascending
    still: tuple[float, ...] = ()  # the share still waiting just after each

    def staying(self, waited: float) -> float:
        """The share of visitors still waiting after ``waited`` seconds."""
        i = bisect.bisect_right(self.waits, waited)
        return self.still[i - 1] if i else 1.0

    def stays(self, waited: float, more: float) -> float:
        """The chance that a visitor who has waited ``waited`` seconds still waits ``more`` later."""
        now = self.staying(waited)
        return self.staying(waited + more) / now if now > 0 else 1.0


def patience_of(
    recent: dict[int, _Recent], waiting: list[Queued], now: datetime, min_at_risk: int = MIN_AT_RISK
) -> Patience:
    """The visitors' patience from the services' recent tickets and those waiting now (pooled:
    patience is the visitors').

    Per service, over the span its tickets read cover (from ``since`` on): each finished ticket
    is watched until its call, each cancelled one until it gave up, each waiting one until now;
    one issued before the span is watched from the span's start only (those of its time who
    ended before are not read, so counted from its issue it would make the early waits look
    safer than they are).  The waiting count: left out, the recent cancellations of a long queue
    would be weighed against its called visitors alone, and visitors would seem to give up
    far more than they do (the pass then played long queues too fast).

    The share stops at the first wait someone gave up at with fewer than ``min_at_risk`` watched
    that long: at the longest waits only a few visitors are watched, and one of three giving up
    took a third off every visit ahead that late (a queue of two hours was played half an hour
    too fast).  From there on nobody more is expected to give up, as beyond the longest wait seen.
    """
    watched: list[tuple[float, float, bool]] = []  # (from, until: seconds after issue; gave up)

    def watch(since: datetime, issued: datetime, until: float, gave_up: bool) -> None:
        start = max((since - _aware(issued, since)).total_seconds(), 0.0)
        if start < until or (gave_up and start <= until):
            watched.append((start, until, gave_up))

    for tickets in recent.values():
        if tickets.since is not None:
            for ended, issued, wait in tickets.waits:
                if ended >= tickets.since:
                    watch(tickets.since, issued, wait, False)
            for ended, issued, wait in tickets.gave_up:
                if ended >= tickets.since:
                    watch(tickets.since, issued, wait, True)
    for ticket in waiting:
        since = recent[ticket.service_id].since if ticket.service_id in recent else None
        if since is not None:
            watch(since, ticket.queued_at, (now - _aware(ticket.queued_at, now)).total_seconds(), False)
    starts = sorted(start for start, _until, _gave_up in watched)
    ends = sorted(until for _start, until, _gave_up in watched)
    waits: list[float] = []
    still: list[float] = []
    share = 1.0
    for wait, group in itertools.groupby(sorted(until for _start, until, gave_up in watched if gave_up)):
        at_risk = bisect.bisect_right(starts, wait) - bisect.bisect_left(ends, wait)
        if at_risk < min_at_risk:
            break
        share *= 1 - len(list(group)) / at_risk
        waits.append(wait)
        still.append(share)
    return Patience(tuple(waits), tuple(still))


def _capped_mean(values: list[float]) -> float:
    """The mean, each value capped at ``OUTLIER_FACTOR`` times the median.

    The mean, not a trimmed one: the visits ahead add up, and a trimmed mean of right-skewed
    handling times is short by the tail it cuts (estimates were 1-3 minutes too short with it).
    The cap keeps one abandoned or extraordinary visit from moving everyone's estimate.
    """
    if not values:
        return DEFAULT_HANDLING_S
    ordered = sorted(values)
    cap = OUTLIER_FACTOR * ordered[len(ordered) // 2]
    return sum(min(v, cap) for v in ordered) / len(ordered)


class Queued(NamedTuple):
    """What the forward pass needs of a waiting ticket (a tuple, not an ORM object: it is cheap)."""

    id: int
    service_id: int
    priority: bool
    queued_at: datetime


PENDING_ID = 2**62  # the id a ticket not yet written stands in with (it will get the highest id)
RETURNING_ID = -1  # the id a transferred visitor coming back in the pass stands in with
RETURN_SHARE = 0.1  # the least share of a visit owed by transfers that comes back as one (a
# sliver per call was three times the pass's time in a hall of 30 counters, 7 services to transfer to)
ARRIVALS_WINDOW_S = 1800.0  # the recent walk-ins whose rate foresees those still to come


def forecast(session: Session, clock: Clock, *, linked_to: int | None = None) -> dict[int, Forecast]:
    """Every waiting ticket of today (by id): its expected wait and its place, from one forward pass.

    With ``linked_to`` (a service id), only the tickets of that service and of the services
    sharing counters with it, which alone decide its tickets' calls (one ticket's page).
    """
    return _forecast(session, clock, None, linked_to=linked_to)


def _forecast(
    session: Session, clock: Clock, pending: Queued | None, *, linked_to: int | None = None
) -> dict[int, Forecast]:
    focus = pending.service_id if pending is not None else linked_to
    pending_at = pending.queued_at if pending is not None else None
    return _pass(_read_queue(session, clock, focus, pending_at), pending)


@dataclass
class _QueueState:
    """What one forward pass reads: the waiting tickets, the open counters, the handling times."""

    service_ids: list[int]
    waiting: list[Queued]
    serves: dict[int, set[int]]
    policy: str = PriorityPolicy.STRICT
    every_n: int = 1
    streak: int = 0
    handling: dict[int, float] | None = None
    free_at: dict[int, float] | None = None
    now: datetime | None = None
    walk_in_rates: dict[int, float] | None = None  # per service, per second; read when needed
    patience: Patience = field(default_factory=Patience)
    pauses: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # per counter: the
    # usual pauses still to come today, (start, end) in seconds from now
    transfers: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # per service: where
    # its visitors are transferred, and the share of them (the past week's)
    recent: dict[int, _Recent] = field(default_factory=dict)  # what handling and patience were
    # made from (kept for bench/estimates_why.py's variants)


# The pass's reads, built once (building a statement costs more than running these).
_COUNTERS = (
    select(Counter.id, Counter.state, Counter.state_since, counter_services.c.service_id)
    .join(counter_services, counter_services.c.counter_id == Counter.id)
    .where(Counter.state.in_((CounterState.OPEN, CounterState.PAUSED)), Counter.active.is_(True))
)
# The waiting list, the pass's one read that grows with the queue: plain columns (the queue
# time read as a bare DateTime, naive UTC, made aware in the tuple's construction: the
# ``UTCDateTime`` decorator per row was half the read), by ``ix_tickets_queue``.
_WAITING = (
    select(Ticket.id, Ticket.service_id, Ticket.priority, type_coerce(Ticket.queued_at, DateTime()))
    .where(
        Ticket.status == TicketStatus.WAITING,
        Ticket.business_date == bindparam("today"),
        Ticket.service_id.in_(bindparam("services", expanding=True)),
    )
    .order_by(Ticket.queued_at, Ticket.id)
)
_ACTIVE = select(Ticket.counter_id, Ticket.service_id, Ticket.called_at).where(
    Ticket.status.in_(ACTIVE_STATUSES), Ticket.counter_id.in_(bindparam("counters", expanding=True))
)


def _read_queue(
    session: Session, clock: Clock, focus: int | None, pending_at: datetime | None
) -> _QueueState:
    """The reads of a pass over every service, or over ``focus`` and the services linked to it.

    ``pending_at``: the queue time of a ticket not yet written that will stand in the pass.
    """
    now = clock.now()
    today = clock.today()
    serves: dict[int, set[int]] = {}
    paused: dict[int, datetime | None] = {}  # paused counter -> since when
    for counter_id, state, since, service_id in session.execute(_COUNTERS):
        serves.setdefault(counter_id, set()).add(service_id)
        if state == CounterState.PAUSED:
            paused[counter_id] = since
    hall = hall_settings(session)
    opening = _opening_counters(session, clock, hall, now, serves)
    for counter_id, (_at, services) in opening.items():
        serves[counter_id] = services
    if focus is None:
        service_ids = list(session.scalars(select(Service.id)))
    else:
        # Only the services linked to the focus through shared counters decide its calls.
        service_ids = sorted(_linked_services(serves, focus))
        serves = {c: s for c, s in serves.items() if s & set(service_ids)}
    rows = session.execute(_WAITING, {"today": today, "services": service_ids}).all()
    waiting = [Queued(i, sid, p, at.replace(tzinfo=UTC)) for i, sid, p, at in rows]
    if not waiting and pending_at is None:
        return _QueueState(service_ids, waiting, serves)  # nothing to play: read no more
    policy, every_n = hall.priority_policy, hall.priority_every_n
    streak = normal_streak(session, service_ids, today, every_n) if policy == PriorityPolicy.EVERY_N else 0
    recent = _recent_tickets(session, clock, service_ids, FORWARD_RECENT, cancelled=True)
    free_at: dict[int, float] = dict.fromkeys(serves, 0.0)
    for counter_id in opening.keys() & serves.keys():
        free_at[counter_id] = opening[counter_id][0]  # closed: it calls from the hall's opening
    usual, week = _usual_pauses_and_week(session, clock, list(serves))
    handling = robust_handling_times(recent, week.no_shows)
    for counter_id in paused.keys() & serves.keys():
        # A paused counter is expected back after its usual pause (the one it takes at this time).
        since = paused[counter_id] or now
        length = usual.length_s(counter_id, since) or usual_pause_s(session, clock)
        away = (now - _aware(since, now)).total_seconds()
        free_at[counter_id] = max(length - away, length * 0.1)
    for counter_id, service_id, called in session.execute(_ACTIVE, {"counters": list(serves)}):
        if counter_id in free_at and called is not None:
            expected = handling.get(service_id, DEFAULT_HANDLING_S)
            elapsed = (now - _aware(called, now)).total_seconds()
            free_at[counter_id] = max(free_at[counter_id], expected - elapsed, expected * 0.2)
    # The waiting are in queue order: the last one queues latest.
    latest = max([_aware(q.queued_at, now) for q in waiting[-1:]] + ([pending_at] if pending_at else []))
    # Only a booked ticket queued from a slot still to come has walk-ins to foresee.
    rates = walk_in_rates(session, clock, service_ids) if latest > now else None
    state = _QueueState(service_ids, waiting, serves, policy, every_n, streak, handling, free_at, now)
    state.walk_in_rates, state.patience = rates, patience_of(recent, waiting, now)
    state.pauses, state.recent = usual.ahead(now), recent
    state.transfers = {
        s: [(t, share) for t, share in week.transfers.get(s, []) if t in service_ids] for s in service_ids
    }
    return state


_CLOSED_COUNTERS = (
    select(Counter.id, counter_services.c.service_id)
    .join(counter_services, counter_services.c.counter_id == Counter.id)
    .where(Counter.state == CounterState.CLOSED, Counter.active.is_(True))
)


def _opening_counters(
    session: Session, clock: Clock, hall: Hall, now: datetime, serves: dict[int, set[int]]
) -> dict[int, tuple[float, set[int]]]:
    """While the hall is closed by its opening hours before it opens again today (early, or between
    two sittings): the closed counters expected to open then, each with the seconds from ``now``
    to that opening and the services it serves.

    Those are the counters on duty on more than half of the hall's days on duty of the past week
    (``_Week.regulars``), or every active one in a hall with no day on duty that week.  A booking
    checked in before the opening was told "no wait" (nobody ahead), or a wait from now at one
    counter, while the counters call from the opening, all together.  A hall open around the
    clock (no opening hours) or open now: none (a closed counter then may not open today).
    """
    if not hall.opening_hours:
        return {}
    opens = next_opening(hall, clock.local(now))
    if opens is None or clock.business_date(opens) != clock.today():
        return {}
    closed: dict[int, set[int]] = {}
    for counter_id, service_id in session.execute(_CLOSED_COUNTERS):
        if counter_id not in serves:
            closed.setdefault(counter_id, set()).add(service_id)
    if not closed:
        return {}
    regulars = _usual_pauses_and_week(session, clock, list(closed))[1].regulars
    at = (opens - now).total_seconds()
    return {c: (at, services) for c, services in closed.items() if regulars is None or c in regulars}


def walk_in_rates(session: Session, clock: Clock, service_ids: list[int]) -> dict[int, float]:
    """Each service's walk-ins per second over the last half hour (services with none: absent)."""
    now = clock.now()
    found = session.execute(
        select(Ticket.issued_service_id, func.count())
        .where(
            Ticket.business_date == clock.today(),
            Ticket.issued_at >= now - timedelta(seconds=ARRIVALS_WINDOW_S),
            Ticket.issued_at <= now,
            Ticket.source != Source.APPOINTMENT,
            Ticket.issued_service_id.in_(service_ids),
        )
        .group_by(Ticket.issued_service_id)
    )
    return {service_id: count / ARRIVALS_WINDOW_S for service_id, count in found}


def _foreseen_walk_ins(state: _QueueState, until: datetime) -> list[Queued]:
    """The walk-ins expected from now until ``until``, each service's evenly spaced at its rate."""
    if not state.walk_in_rates or state.now is None:
        return []
    span = (until - state.now).total_seconds()
    foreseen: list[Queued] = []
    for service_id, rate in sorted(state.walk_in_rates.items()):
        gap = 1.0 / rate
        offset = gap / 2  # the n-th arrival in the middle of its share of the span
        while offset < span:
            arrives = state.now + timedelta(seconds=offset)
            foreseen.append(Queued(PENDING_ID + 1 + len(foreseen), service_id, False, arrives))
            offset += gap
    return foreseen


def _pass(state: _QueueState, pending: Queued | None) -> dict[int, Forecast]:
    """Play a read queue forward, with a ticket not yet written standing in it (then it alone)."""
    waiting = list(state.waiting)
    if pending is not None:
        keys = [(_aware(q.queued_at, pending.queued_at), q.id) for q in waiting]
        waiting.insert(bisect.bisect(keys, (pending.queued_at, pending.id)), pending)
    if not waiting or state.handling is None or state.free_at is None or state.now is None:
        return {}
    now = state.now
    # Seconds each has waited so far, from its queue time (a booking checked in early: none yet);
    # only needed when someone gave up lately.
    waited = {}
    if state.patience.waits:
        waited = {q.id: max((now - _aware(q.queued_at, now)).total_seconds(), 0.0) for q in waiting}
    arrivals: dict[int, float] = {}
    foreseen = (
        _foreseen_walk_ins(state, max(_aware(q.queued_at, now) for q in waiting))
        if state.walk_in_rates
        else []
    )
    if foreseen:
        arrivals = {q.id: (q.queued_at - now).total_seconds() for q in foreseen}
        waiting = sorted(waiting + foreseen, key=lambda q: (_aware(q.queued_at, now), q.id))
    order = in_call_order(waiting, state.policy, state.every_n, state.streak)
    only = None if pending is None else pending.id
    return _play_forward(
        order,
        state.serves,
        state.free_at,
        state.handling,
        arrivals,
        state.patience,
        waited,
        only=only,
        pauses=state.pauses,
        transfers=state.transfers,
    )


DEFAULT_PAUSE_S = 900.0  # a pause's expected length with no history (15 minutes)
PAUSE_WINDOW_S = 1800.0  # the pauses of several days that started this close are the same pause
PAUSE_AFTER_VISIT_S = 60.0  # a pause begun this soon after a visit's end waited for that visit


@dataclass(frozen=True)
class _PastPause:
    """One ended pause of a day before today, its times in its local day (seconds after midnight)."""

    day: date
    start_s: float  # when the counter meant to pause (``_past_pauses``)
    length_s: float  # from when it paused to its end
    end_s: float


@dataclass(frozen=True)
class UsualPause:
    """A pause a counter takes on most days at about the same time (lunch), in its local day."""

    start_s: float  # the median start (from when the counter calls nobody), seconds after local midnight
    length_s: float  # the median length, from when the counter paused
    end_s: float  # the median end, seconds after local midnight


@dataclass
class UsualPauses:
    """What the past week's pauses (``counter_pauses``) tell of the counters' pauses today.

    A counter's usual pauses are those of its past days on duty (``RECENT_DAYS`` before today)
    that started within ``PAUSE_WINDOW_S`` of each other on more than half of those days; a
    counter with no day on duty then takes the hall's most common one.  Today's pauses tell
    which of them it has taken already (or is taking).
    """

    usual: dict[int, list[UsualPause]] = field(default_factory=dict)
    today: dict[int, list[float]] = field(default_factory=dict)  # each counter's pause starts today
    mean_s: float | None = None  # the mean length of the week's pauses, today's ended ones included
    midnight: datetime | None = None  # today's local midnight

    def day_s(self, moment: datetime) -> float:
        """Seconds from today's local midnight to ``moment``."""
        assert self.midnight is not None
        return (_aware(moment, self.midnight) - self.midnight).total_seconds()

    def length_s(self, counter_id: int, since: datetime) -> float | None:
        """How long a pause the counter started at ``since`` is expected to last (None: unknown)."""
        if self.midnight is not None:
            start = self.day_s(since)
            for pause in self.usual.get(counter_id, []):
                if abs(start - pause.start_s) <= PAUSE_WINDOW_S:
                    return pause.length_s
        return self.mean_s

    def ahead(self, now: datetime) -> dict[int, list[tuple[float, float]]]:
        """Per counter, its usual pauses not taken today and not over, in seconds from ``now``."""
        if self.midnight is None:
            return {}
        clock_s = self.day_s(now)
        found: dict[int, list[tuple[float, float]]] = {}
        for counter_id, pauses in self.usual.items():
            taken = self.today.get(counter_id, [])
            for pause in pauses:
                end = max(pause.end_s, pause.start_s)
                if end <= clock_s or any(abs(t - pause.start_s) <= PAUSE_WINDOW_S for t in taken):
                    continue
                found.setdefault(counter_id, []).append((pause.start_s - clock_s, end - clock_s))
        return found


def _recurring(pauses: list[_PastPause], days: int) -> list[UsualPause]:
    """The pauses that recur (start within ``PAUSE_WINDOW_S``) on more than half of ``days`` days,
    most common first."""
    left = sorted(pauses, key=lambda p: p.start_s)
    found: list[UsualPause] = []
    while left:
        groups = [[q for q in left if p.start_s <= q.start_s < p.start_s + PAUSE_WINDOW_S] for p in left]
        group = max(groups, key=lambda g: (len({q.day for q in g}), len(g)))
        if 2 * len({q.day for q in group}) <= days:
            break
        found.append(
            UsualPause(
                statistics.median(q.start_s for q in group),
                statistics.median(q.length_s for q in group),
                statistics.median(q.end_s for q in group),
            )
        )
        left = [q for q in left if q not in group]
    return found


def usual_pauses(session: Session, clock: Clock, counter_ids: list[int]) -> UsualPauses:
    """The counters' usual pauses, from the pauses and days on duty of the past week, and their
    pauses of today (one statement, with the past week's reading kept: ``_past_week``)."""
    return _usual_pauses_and_week(session, clock, counter_ids)[0]


def _usual_pauses_and_week(
    session: Session, clock: Clock, counter_ids: list[int]
) -> tuple[UsualPauses, _Week]:
    """``usual_pauses``, and the past week's reading it was made from."""
    today = clock.today()
    midnight = clock.day_bounds(today)[0]
    found = UsualPauses(midnight=clock.local(midnight))
    if not counter_ids:
        return found, _Week({}, [], (0.0, 0), {})
    rows = session.execute(_today_statement(), {"midnight": midnight, "ids": counter_ids}).all()
    week = _past_week(session, clock, (rows[0][0], rows[0][1]))
    found.usual = {c: week.usual[c] if c in week.usual else week.hall for c in counter_ids}
    total, count = week.lengths
    for _pause, _duty, counter_id, started, ended in rows:
        if counter_id is None:
            continue  # no pause today: the one row carries only the newest ids
        found.today.setdefault(counter_id, []).append(found.day_s(started))
        if ended is not None:
            total, count = total + (ended - started).total_seconds(), count + 1
    found.mean_s = total / count if count else None
    return found, week


@functools.cache
def _today_statement() -> Executable:
    """The newest pause and duty stretch begun before today (what the past week's reading is
    kept by) beside each of today's pauses of some counters: at least one row."""
    midnight: BindParameter[datetime] = bindparam("midnight")
    newest = select(
        select(CounterPause.id)
        .where(CounterPause.started_at < midnight)
        .order_by(CounterPause.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("pause"),
        select(CounterSession.id)
        .where(CounterSession.opened_at < midnight)
        .order_by(CounterSession.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("duty"),
    ).subquery()
    today = (
        select(CounterPause.counter_id, CounterPause.started_at, CounterPause.ended_at)
        .where(
            CounterPause.counter_id.in_(bindparam("ids", expanding=True)), CounterPause.started_at >= midnight
        )
        .subquery()
    )
    return select(
        newest.c.pause, newest.c.duty, today.c.counter_id, today.c.started_at, today.c.ended_at
    ).select_from(newest.outerjoin(today, true()))


@dataclass(frozen=True)
class _Week:
    """What the days before today tell: each active counter's usual pauses (those on duty), the
    hall's most common one (for the others), the pauses' total length and count, and where the
    visitors of each service were transferred (``_transfer_shares``)."""

    usual: dict[int, list[UsualPause]]
    hall: list[UsualPause]
    lengths: tuple[float, int]
    transfers: dict[int, list[tuple[int, float]]]
    no_shows: dict[int, tuple[float, float]] = field(default_factory=dict)  # per service: the share
    # of its calls that were no-shows, and their mean time from call to being marked
    regulars: frozenset[int] | None = None  # the counters on duty on more than half of the hall's
    # days on duty (None: no day on duty that week)


_WEEKS: dict[tuple[object, ...], _Week] = {}  # the last few readings of the past week (see _past_week)


def _past_week(session: Session, clock: Clock, newest: tuple[int | None, int | None]) -> _Week:
    """The active counters' usual pauses from the days before today.

    Those days do not change while today goes on, so their reading is kept, keyed by the
    database, the day and the newest pause and duty stretch begun before today (a restored or
    simulated history reads them again): the pass runs on every change, the week is read once
    a day per process.
    """
    key = (str(session.get_bind().engine.url), clock.tz, clock.today(), *newest)
    week = _WEEKS.get(key)
    if week is None:
        week = _read_week(session, clock)
        if len(_WEEKS) >= 32:
            _WEEKS.clear()
        _WEEKS[key] = week
    return week


def _read_week(session: Session, clock: Clock) -> _Week:
    today = clock.today()
    since = clock.day_bounds(today - timedelta(days=RECENT_DAYS))[0]
    midnight = clock.day_bounds(today)[0]
    counter_ids = list(session.scalars(select(Counter.id).where(Counter.active.is_(True))))
    past = _past_pauses(session, clock, counter_ids, since, midnight)
    on_duty = _duty_days(session, clock, counter_ids, since, midnight)
    usual = {
        counter_id: _recurring(past.get(counter_id, []), len(days)) for counter_id, days in on_duty.items()
    }
    # A counter with no day on duty this week takes the hall's most common usual pause, if any.
    hall_days = {day for days in on_duty.values() for day in days}
    hall = _recurring([p for pauses in past.values() for p in pauses], len(hall_days))[:1]
    lengths = [pause.length_s for pauses in past.values() for pause in pauses]
    transfers = _transfer_shares(session, today - timedelta(days=RECENT_DAYS), today)
    no_shows = _no_show_shares(session, today - timedelta(days=RECENT_DAYS), today)
    regulars = None  # no day on duty: every active counter may open
    if hall_days:
        regulars = frozenset(c for c, days in on_duty.items() if 2 * len(days) > len(hall_days))
    return _Week(usual, hall, (sum(lengths), len(lengths)), transfers, no_shows, regulars)


def _no_show_shares(session: Session, first: date, until: date) -> dict[int, tuple[float, float]]:
    """Per service, the share of its called visitors who did not come (no-shows) and the mean time
    from their call to being marked, over the business days from ``first`` to before ``until``
    (services with no no-show, or called fewer than ``NO_SHOW_MIN_CALLS`` times: absent).

    Read once a day with the pauses (``_past_week``): a week's tickets are too many to read on
    every pass, and today's few add little.
    """
    called: dict[int, int] = {
        service_id: count
        for service_id, count in session.execute(
            select(Ticket.service_id, func.count())
            .where(Ticket.business_date >= first, Ticket.business_date < until, Ticket.called_at.is_not(None))
            .group_by(Ticket.service_id)
        )
    }
    marked: dict[int, list[float]] = {}
    for service_id, called_at, closed_at in session.execute(
        select(Ticket.service_id, Ticket.called_at, Ticket.closed_at).where(
            Ticket.business_date >= first,
            Ticket.business_date < until,
            Ticket.status == TicketStatus.NO_SHOW,
        )
    ):
        if called_at is not None and closed_at is not None:
            marked.setdefault(service_id, []).append((closed_at - called_at).total_seconds())
    return {
        service_id: (min(len(spans) / called[service_id], 1.0), sum(spans) / len(spans))
        for service_id, spans in marked.items()
        if called.get(service_id, 0) >= NO_SHOW_MIN_CALLS
    }


def _transfer_shares(session: Session, first: date, until: date) -> dict[int, list[tuple[int, float]]]:
    """Per service, the services its called visitors were transferred to and the share of them
    that went there, over the business days from ``first`` to before ``until``.

    A ticket called for a service (or transferred from it) counts once for the service it was
    issued for; one transferred counts for the service it came from and the one it went to.
    """
    called: dict[int, int] = {}
    moved: dict[tuple[int, int], int] = {}
    for issued, came_from, service_id, count in session.execute(
        select(Ticket.issued_service_id, Ticket.transferred_from_id, Ticket.service_id, func.count())
        .where(
            Ticket.business_date >= first,
            Ticket.business_date < until,
            or_(Ticket.called_at.is_not(None), Ticket.transfer_count > 0),
        )
        .group_by(Ticket.issued_service_id, Ticket.transferred_from_id, Ticket.service_id)
    ):
        called[issued] = called.get(issued, 0) + count
        if came_from is not None:
            moved[came_from, service_id] = moved.get((came_from, service_id), 0) + count
    shares: dict[int, list[tuple[int, float]]] = {}
    for (source, target), count in sorted(moved.items()):
        if called.get(source):
            shares.setdefault(source, []).append((target, min(count / called[source], 1.0)))
    return shares


def _duty_days(
    session: Session, clock: Clock, counter_ids: list[int], since: datetime, until: datetime
) -> dict[int, set[date]]:
    """The days each counter went on duty between ``since`` and ``until`` (counters with none: absent)."""
    on_duty: dict[int, set[date]] = {}
    if not counter_ids:
        return on_duty
    for counter_id, opened in session.execute(
        select(CounterSession.counter_id, CounterSession.opened_at).where(
            CounterSession.counter_id.in_(counter_ids),
            CounterSession.opened_at >= since,
            CounterSession.opened_at < until,
        )
    ):
        on_duty.setdefault(counter_id, set()).add(clock.business_date(opened))
    return on_duty


def _past_pauses(
    session: Session, clock: Clock, counter_ids: list[int], since: datetime, until: datetime
) -> dict[int, list[_PastPause]]:
    """Each counter's ended pauses started between ``since`` and ``until``.

    A counter busy when its pause was due pauses once its visit ends: a pause begun within
    ``PAUSE_AFTER_VISIT_S`` of a visit's end was meant for some moment during that visit, the
    middle of it expected; from then on the counter calls nobody.  (Taken from when it paused,
    the start was late by what was left of the visit, and the pass let each such counter call
    one visitor more before its lunch than it would.)
    """
    past: dict[int, list[_PastPause]] = {}
    if not counter_ids:
        return past
    last_visit = (
        select(Visit.finished_at, Ticket.called_at)
        .join(Ticket, Ticket.id == Visit.ticket_id)
        .where(Visit.counter_id == CounterPause.counter_id, Visit.finished_at <= CounterPause.started_at)
        .order_by(Visit.finished_at.desc())
        .limit(1)
    )
    for counter_id, day, started, ended, finished, called in session.execute(
        select(
            CounterPause.counter_id,
            CounterPause.business_date,
            CounterPause.started_at,
            CounterPause.ended_at,
            last_visit.with_only_columns(Visit.finished_at).scalar_subquery(),
            last_visit.with_only_columns(Ticket.called_at).scalar_subquery(),
        ).where(
            CounterPause.counter_id.in_(counter_ids),
            CounterPause.started_at >= since,
            CounterPause.started_at < until,
            CounterPause.ended_at.is_not(None),
        )
    ):
        if ended is None:
            continue  # none (the statement reads ended ones): for the type checker
        midnight = clock.local(started).replace(hour=0, minute=0, second=0, microsecond=0)
        meant = started
        if finished is not None and called is not None:
            finished, called = _aware(finished, started), _aware(called, started)
            if (started - finished).total_seconds() <= PAUSE_AFTER_VISIT_S and called <= finished:
                meant = called + (finished - called) / 2
        past.setdefault(counter_id, []).append(
            _PastPause(
                day,
                (clock.local(meant) - midnight).total_seconds(),
                (ended - started).total_seconds(),
                (clock.local(ended) - midnight).total_seconds(),
            )
        )
    return past


def usual_pause_s(session: Session, clock: Clock) -> float:
    """The mean length of the counters' pauses over the past week, from their duty stretches (15
    minutes with none): a pause's length when no pause of the week is on record (``counter_pauses``
    began with migration 0014)."""
    since, _ = clock.day_bounds(clock.today() - timedelta(days=RECENT_DAYS - 1))
    seconds, count = session.execute(
        select(func.sum(CounterSession.paused_seconds), func.sum(CounterSession.pause_count)).where(
            CounterSession.opened_at >= since,
            CounterSession.pause_count > 0,
            CounterSession.paused_at.is_(None),  # a pause under way has no length yet
        )
    ).one()
    return float(seconds) / float(count) if seconds and count else DEFAULT_PAUSE_S


def _linked_services(serves: dict[int, set[int]], service_id: int) -> set[int]:
    linked, frontier = {service_id}, [service_id]
    while frontier:
        current = frontier.pop()
        for services in serves.values():
            if current in services:
                for other in services - linked:
                    linked.add(other)
                    frontier.append(other)
    return linked


def _aware(moment: datetime, like: datetime) -> datetime:
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None and like.tzinfo else moment


def _play_forward(
    order: list[Queued],
    serves: dict[int, set[int]],
    free_at: dict[int, float],
    handling: dict[int, float],
    arrivals: dict[int, float],
    patience: Patience,
    waited: dict[int, float],
    only: int | None = None,
    pauses: dict[int, list[tuple[float, float]]] | None = None,
    transfers: dict[int, list[tuple[int, float]]] | None = None,
) -> dict[int, Forecast]:
    """Play the calls forward; with ``only``, stop once that ticket is called and give it alone.

    ``arrivals``: the foreseen walk-ins (by id), each callable from its arrival (seconds from now).
    A visit ahead takes its handling time times the chance its visitor, who has ``waited`` so
    far, is still there when called (``patience``); it is still counted in the places.
    ``pauses``: per counter, its usual pauses to come, (start, end) in seconds from now: a
    counter free inside one calls at its end.
    ``transfers``: per service, the services its visitors are sent on to and the share sent: a
    transferred visitor queues again in the new service at their old place (``transfer``), so
    each visit played owes that share of a visit of the new service; once a service is owed half
    of ``RETURN_SHARE`` of a visit, that share (or what is owed, if more) comes back at the place
    of the visit that made it due, callable from its end (nobody's place: it was counted once).
    """
    queues: dict[int, deque[tuple[int, Queued]]] = {}  # the waiting, per service, in call order
    coming: dict[int, deque[tuple[int, Queued]]] = {}  # the foreseen, per service, in call order
    for rank, ticket in enumerate(order):
        lane = coming if ticket.id in arrivals else queues
        lane.setdefault(ticket.service_id, deque()).append((rank, ticket))
    served_by: dict[int, list[int]] = {}
    for counter_id, services in serves.items():
        for service_id in services:
            served_by.setdefault(service_id, []).append(counter_id)
    calls = dict.fromkeys(serves, 0)  # calls made so far in the pass, per counter
    owed: dict[int, float] = {}  # per service: the share of a visit the visits played owe it, not yet back
    coming_back: dict[int, deque[tuple[int, Queued]]] = {}  # per service: the transferred coming back
    due_back: dict[tuple[int, int], tuple[float, float]] = {}  # (rank, service): when each of those
    # can be called, and the share of a visit it is
    heap = [(at, counter_id) for counter_id, at in free_at.items()]
    heapq.heapify(heap)
    found: dict[int, Forecast] = {}
    while heap:
        at, counter_id = heapq.heappop(heap)
        if pauses and counter_id in pauses and (back := _in_pause(pauses[counter_id], at)):
            heapq.heappush(heap, (back, counter_id))  # free inside its usual pause: back at its end
            continue
        heads = [queues[s][0] for s in serves[counter_id] if queues.get(s)]
        due = [coming[s][0] for s in serves[counter_id] if coming.get(s)] if coming else []
        heads += [head for head in due if arrivals[head[1].id] <= at]
        returning = (
            [coming_back[s][0] for s in serves[counter_id] if coming_back.get(s)] if coming_back else []
        )
        heads += [head for head in returning if due_back[head[0], head[1].service_id][0] <= at]
        if not heads:
            later = [arrivals[head[1].id] for head in due]
            later += [due_back[head[0], head[1].service_id][0] for head in returning]
            if later:  # nobody here yet: the counter calls the first to come
                heapq.heappush(heap, (min(later), counter_id))
            continue  # nobody left this counter can call
        rank, ticket = min(heads, key=lambda head: head[0])
        visit = handling.get(ticket.service_id, DEFAULT_HANDLING_S)
        if ticket.id == RETURNING_ID:
            coming_back[ticket.service_id].popleft()
            heapq.heappush(heap, (at + visit * due_back[rank, ticket.service_id][1], counter_id))
            continue
        if ticket.id in arrivals:
            coming[ticket.service_id].popleft()
            if patience.waits:
                visit *= patience.stays(0.0, at - arrivals[ticket.id])
            heapq.heappush(heap, (at + visit, counter_id))
            continue
        stays = patience.stays(waited.get(ticket.id, 0.0), at) if patience.waits else 1.0
        visit *= stays
        queues[ticket.service_id].popleft()
        for target, share in transfers.get(ticket.service_id, ()) if transfers else ():
            owed[target] = owed.get(target, 0.0) + share * stays
            if owed[target] >= RETURN_SHARE / 2:  # rounded, not cut: on average back when owed
                returned = max(owed[target], RETURN_SHARE)
                owed[target] -= returned
                coming_back.setdefault(target, deque()).append(
                    (rank, Queued(RETURNING_ID, target, False, ticket.queued_at))
                )
                due_back[rank, target] = (at + visit, returned)
        if only is None or ticket.id == only:
            ahead = sum(calls[c] for c in served_by[ticket.service_id])
            found[ticket.id] = Forecast(round(at), ahead)
            if only is not None:
                return found
        calls[counter_id] += 1
        heapq.heappush(heap, (at + visit, counter_id))
    # Tickets no open counter serves: as if one counter opened now for their service.
    for service_id, left in queues.items():
        mean = handling.get(service_id, DEFAULT_HANDLING_S)
        for n, (_rank, ticket) in enumerate(left):
            if only is None or ticket.id == only:
                found[ticket.id] = Forecast(round(mean * n), n)
    return found


def _in_pause(pauses: list[tuple[float, float]], at: float) -> float:
    """The end of the pause ``at`` falls in (0.0: in none; a pause ends after it starts)."""
    for start, end in pauses:
        if start <= at < end:
            return end
    return 0.0


# Which estimate ``estimate_at_issue`` keeps: "forward" (the hall's), or "service_load" (the
# estimator before issue 17, kept so bench/estimates.py can measure both on the same days).
AT_ISSUE_METHOD = "forward"


def forecast_at_issue(
    session: Session, clock: Clock, service_id: int, *, priority: bool, queued_at: datetime
) -> Forecast:
    """The wait to show (and keep) and the place of a ticket about to be issued: its forward estimate.

    Run before the ticket is written, with the ticket standing in the queue as it will be
    (its queue time, the highest id), and over the services sharing counters with its own
    only: the pass reads light rows and stops at the new ticket, so the write lock is held
    briefly even with thousands waiting.
    """
    if AT_ISSUE_METHOD == "service_load":
        load = service_loads(session, clock, only=service_id)[service_id]
        return Forecast(load.estimate(load.waiting), load.waiting)
    pending = Queued(PENDING_ID, service_id, priority, queued_at)
    return _forecast(session, clock, pending).get(PENDING_ID) or Forecast(0, 0)


def estimate_at_issue(
    session: Session, clock: Clock, service_id: int, *, priority: bool, queued_at: datetime
) -> int:
    """The wait to show (and keep) for a ticket about to be issued (``forecast_at_issue``'s)."""
    return forecast_at_issue(session, clock, service_id, priority=priority, queued_at=queued_at).wait_s


_ISSUED = "queue_engine.issued_forecast"  # session.info: (ticket, Forecast) of the last one issued


def keep_issued_forecast(session: Session, ticket: Ticket, found: Forecast) -> None:
    """Keep the forecast a ticket was just issued with, for the issue's answer (``issued_forecasts``).

    Only the forward pass's: it is what ``forecast`` gives the ticket right after (the queue
    as the ticket was written), so the answer need not play the queue forward a second time.
    """
    if AT_ISSUE_METHOD == "forward":
        session.info[_ISSUED] = (ticket, found)


def issued_forecasts(session: Session, ticket: Ticket) -> dict[int, Forecast] | None:
    """The forecast the ticket was issued with in this session, as ``ticket_view``'s
    ``forecasts`` (None when it was not the last ticket issued here: a pass is made)."""
    kept = session.info.get(_ISSUED)
    if kept is None or kept[0] is not ticket:
        return None
    return {ticket.id: kept[1]}


def new_ticket_estimates(session: Session, clock: Clock, service_ids: list[int]) -> dict[int, int]:
    """What a walk-in taking a ticket now would be told to wait, per service (the kiosk's figure).

    Each is what ``estimate_at_issue`` gives a ticket queued now; the services linked through
    shared counters share one read of the queue, each then played forward with its own stand-in.
    """
    now = clock.now()
    if AT_ISSUE_METHOD != "forward":
        return {
            service_id: estimate_at_issue(session, clock, service_id, priority=False, queued_at=now)
            for service_id in service_ids
        }
    found: dict[int, int] = {}
    wanted = set(service_ids)
    for service_id in service_ids:
        if service_id in found:
            continue
        state = _read_queue(session, clock, service_id, now)
        for linked in [s for s in state.service_ids if s in wanted and s not in found]:
            estimate = _pass(state, Queued(PENDING_ID, linked, False, now)).get(PENDING_ID)
            found[linked] = estimate.wait_s if estimate is not None else 0
    return {service_id: found[service_id] for service_id in service_ids}
