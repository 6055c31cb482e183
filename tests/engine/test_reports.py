"""Reports: every figure against an independent computation from the raw tickets of a hand-built hall.

The hall: services A (target 10 min), B (20 min), C (complaints, 15 min); counter 1 serves A and
C (clerk u1), counter 2 serves A and B (clerk u2).  Monday 5 January 2026 holds a served visit,
a no-show, a cancelled ticket, a transfer, a complaint finished without "start", a wait over
target, a visit across midnight and a ticket left to expire; Tuesday has no ticket at all;
Wednesday two more visits.  The expected figures are computed here, from the tickets, their
event log and their visits, without the report code.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter as Tally
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from queue_engine import (
    VisitRecord,
    call_next,
    cancel,
    close_business_day,
    finish_visit,
    issue_ticket,
    mark_no_show,
    rate_visit,
    recall,
    start_service,
    transfer,
)
from queue_engine.core.kinds import Category
from queue_engine.core.models import (
    Complaint,
    Counter,
    CounterSession,
    Hall,
    ReportCell,
    ReportDay,
    ReportMonth,
    Service,
    Ticket,
    TicketEvent,
    User,
)
from queue_engine.hall.calendar import add_working_days
from queue_engine.reporting.cells import finalize_days, load_cells
from queue_engine.reporting.handover import report_title
from queue_engine.reporting.reports import ReportFilter, complaint_figures, figure_rows, report
from queue_engine.reporting.staffing import counters_needed, erlang_c, mean_wait_s, staffing_plan
from queue_engine.reporting.supervision import hall_overview

TZ = ZoneInfo("Asia/Shanghai")
MONDAY, TUESDAY, WEDNESDAY = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)


def at(day: date, hhmm: str) -> datetime:
    """A local time of the hall on a day."""
    hours, minutes, *seconds = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, seconds[0] if seconds else 0, tzinfo=TZ)


@pytest.fixture
def hall(session, clock, make_service, make_counter, make_user) -> dict[str, Any]:
    """The hand-built history above; the clock left on Thursday 8 January, 09:00."""
    a = make_service("A", target_wait_min=10, sort_order=1)
    b = make_service("B", target_wait_min=20, sort_order=2)
    c = make_service("C", target_wait_min=15, sort_order=3, category=Category.COMPLAINT)
    c1 = make_counter("1", [a, c])
    c2 = make_counter("2", [a, b])
    u1, u2 = make_user("u1"), make_user("u2")
    ids = {"A": a.id, "B": b.id, "C": c.id, "c1": c1.id, "c2": c2.id, "u1": u1.id, "u2": u2.id}
    t: dict[str, str] = {}

    def do(when: datetime, action: Any, *args: Any, **kwargs: Any) -> Any:
        clock.set(when)
        result = action(session, clock, *args, **kwargs)
        session.commit()
        return result

    def issue(name: str, when: datetime, code: str) -> None:
        t[name] = do(when, issue_ticket, code).token

    def call(when: datetime, counter: str, user: str) -> str:
        return str(do(when, call_next, ids[counter], ids[user]).token)

    def at1(counter: str) -> dict[str, int]:
        return {"counter_id": ids[counter]}

    d = MONDAY
    issue("t1", at(d, "09:00"), "A")
    issue("t2", at(d, "09:01"), "A")
    issue("t3", at(d, "09:02"), "B")
    issue("t4", at(d, "09:03"), "A")
    assert call(at(d, "09:04"), "c1", "u1") == t["t1"]
    do(at(d, "09:05"), start_service, t["t1"], **at1("c1"))
    assert call(at(d, "09:06:30"), "c2", "u2") == t["t2"]
    do(at(d, "09:07:30"), recall, t["t2"], **at1("c2"))
    do(at(d, "09:08"), mark_no_show, t["t2"], staff_id=ids["u2"], **at1("c2"))
    do(at(d, "09:10"), cancel, t["t3"])
    do(at(d, "09:12"), finish_visit, t["t1"], VisitRecord("resolved"), **at1("c1"))
    assert call(at(d, "09:12:10"), "c1", "u1") == t["t4"]
    do(at(d, "09:12:30"), rate_visit, t["t1"], 5)
    do(at(d, "09:13"), start_service, t["t4"], **at1("c1"))
    do(at(d, "09:15"), transfer, t["t4"], "B", staff_id=ids["u1"], **at1("c1"))
    assert call(at(d, "09:20"), "c2", "u2") == t["t4"]
    do(at(d, "09:21"), start_service, t["t4"], **at1("c2"))
    do(at(d, "09:30"), finish_visit, t["t4"], VisitRecord("referred"), **at1("c2"))
    issue("t5", at(d, "09:30:30"), "C")
    do(at(d, "09:31"), rate_visit, t["t4"], 2)
    assert call(at(d, "09:31:30"), "c1", "u1") == t["t5"]
    do(
        at(d, "09:45"),
        finish_visit,
        t["t5"],
        VisitRecord("follow_up", complaint_department="督查科", complaint_due=TUESDAY),
        **at1("c1"),
    )
    issue("t8", at(d, "10:00"), "B")
    assert call(at(d, "10:25"), "c2", "u2") == t["t8"]
    do(at(d, "10:40:07"), finish_visit, t["t8"], VisitRecord("resolved"), **at1("c2"))
    issue("t7", at(d, "16:00"), "C")  # never called: expires with the day
    issue("t6", at(d, "23:40"), "B")  # served across midnight
    assert call(at(d, "23:50"), "c2", "u2") == t["t6"]
    do(at(d, "23:52:20"), start_service, t["t6"], **at1("c2"))
    do(at(TUESDAY, "00:10"), finish_visit, t["t6"], VisitRecord("resolved"), **at1("c2"))
    do(at(TUESDAY, "00:15"), rate_visit, t["t6"], 4)
    do(at(TUESDAY, "01:00"), close_business_day)

    d = WEDNESDAY
    issue("t9", at(d, "09:00"), "A")
    assert call(at(d, "09:02"), "c1", "u1") == t["t9"]
    do(at(d, "09:03"), start_service, t["t9"], **at1("c1"))
    issue("t10", at(d, "09:05"), "B")
    assert call(at(d, "09:06"), "c2", "u2") == t["t10"]
    do(at(d, "09:07"), start_service, t["t10"], **at1("c2"))
    do(at(d, "09:08:59"), finish_visit, t["t9"], VisitRecord("resolved"), **at1("c1"))
    do(at(d, "09:20"), finish_visit, t["t10"], VisitRecord("resolved"), **at1("c2"))
    do(at(d, "09:30"), rate_visit, t["t9"], 3, source="phone")
    do(at(d, "09:31"), rate_visit, t["t10"], 1)
    do(at(date(2026, 1, 8), "01:00"), close_business_day)
    clock.set(at(date(2026, 1, 8), "09:00"))
    return {"ids": ids, "tokens": t}


# -- the independent computation ------------------------------------------------------------


def stats(values: list[int]) -> dict[str, Any]:
    """Count, mean, median, p90 (nearest rank) the plain way."""
    if not values:
        return {"count": 0, "mean_s": None, "median_s": None, "p90_s": None}
    ordered = sorted(values)
    return {
        "count": len(values),
        "mean_s": round(sum(values) / len(values), 1),
        "median_s": round(float(statistics.median(values)), 1),
        "p90_s": float(ordered[math.ceil(0.9 * len(values)) - 1]),
    }


def seconds(later: datetime, earlier: datetime) -> int:
    """Whole seconds between two instants (truncated)."""
    return int((later - earlier).total_seconds())


def satisfaction(ratings: list[int], served: int) -> dict[str, Any]:
    return {
        "ratings": len(ratings),
        "mean": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "distribution": {str(n): ratings.count(n) for n in range(1, 6)},
        "response_rate": round(len(ratings) / served, 3) if served else None,
        "satisfaction_rate": round(sum(1 for r in ratings if r >= 4) / len(ratings), 3) if ratings else None,
        "bad": sum(1 for r in ratings if r <= 2),
    }


def expected(session, clock, first: date, last: date, where: ReportFilter) -> dict[str, Any]:
    """The report's figures, from the raw rows."""
    tickets = session.scalars(select(Ticket).where(Ticket.business_date.between(first, last))).all()
    events = {
        t.id: session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)
        ).all()
        for t in tickets
    }
    services = {s.id: s for s in session.scalars(select(Service))}

    def matches(service_id: int | None, counter_id: int | None, staff_id: int | None) -> bool:
        return (
            (where.service_id is None or service_id == where.service_id)
            and (where.counter_id is None or counter_id == where.counter_id)
            and (where.staff_id is None or staff_id == where.staff_id)
        )

    chosen = [t for t in tickets if matches(t.issued_service_id, t.counter_id, t.staff_id)]
    transfers = [
        e
        for t in tickets
        for e in events[t.id]
        if e.type == "transferred" and matches(e.data["from_service_id"], e.counter_id, e.staff_id)
    ]

    def figures(group: list[Any], transfer_events: list[Any]) -> dict[str, Any]:
        status = Tally(t.status for t in group)
        done = [t for t in group if t.status == "done"]
        waits = {}
        for t in group:
            calls = [e.at for e in events[t.id] if e.type == "called"]
            if calls:
                waits[t.id] = seconds(calls[0], t.issued_at)
        over = sum(
            1
            for t in group
            if t.id in waits and waits[t.id] > services[t.issued_service_id].target_wait_min * 60
        )
        ratings = [t.visit.rating for t in done if t.visit.rating is not None]
        return {
            "issued": len(group),
            "served": status["done"],
            "no_show": status["no_show"],
            "cancelled": status["cancelled"],
            "expired": status["expired"],
            "open": status["waiting"] + status["called"] + status["serving"],
            "transferred_out": len(transfer_events),
            "wait": stats(list(waits.values())),
            "walk": stats(
                [
                    seconds(t.started_at, t.called_at)
                    for t in group
                    if t.started_at and t.started_at > t.called_at
                ]
            ),
            "service_time": stats([seconds(t.finished_at, t.started_at) for t in done]),
            "over_target": {
                "count": over,
                "of": len(waits),
                "share": round(over / len(waits), 3) if waits else None,
            },
            "satisfaction": satisfaction(ratings, len(done)),
        }

    def person(group: list[Any], transfer_events: list[Any]) -> dict[str, Any]:
        full = figures(group, transfer_events)
        return {k: full[k] for k in ("served", "no_show", "transferred_out", "service_time", "satisfaction")}

    keys_service = sorted(
        {t.issued_service_id for t in chosen} | {e.data["from_service_id"] for e in transfers}
    )
    per_service = []
    for sid in sorted(keys_service, key=lambda s: services[s].sort_order):
        row = figures(
            [t for t in chosen if t.issued_service_id == sid],
            [e for e in transfers if e.data["from_service_id"] == sid],
        )
        per_service.append(
            {"code": services[sid].code, "target_wait_min": services[sid].target_wait_min, **row}
        )
    staff = []
    for uid in sorted(
        {t.staff_id for t in chosen if t.staff_id} | {e.staff_id for e in transfers if e.staff_id}
    ):
        row = person([t for t in chosen if t.staff_id == uid], [e for e in transfers if e.staff_id == uid])
        if row["served"] or row["no_show"] or row["transferred_out"]:
            staff.append({"username": session.get(User, uid).username, **row})
    counters = []
    for cid in sorted(
        {t.counter_id for t in chosen if t.counter_id} | {e.counter_id for e in transfers if e.counter_id}
    ):
        row = person(
            [t for t in chosen if t.counter_id == cid], [e for e in transfers if e.counter_id == cid]
        )
        if row["served"] or row["no_show"] or row["transferred_out"]:
            counters.append({"name": session.get(Counter, cid).name, **row})
    arrivals = Tally(clock.local(t.issued_at).hour for t in chosen)
    finished = Tally(clock.local(t.finished_at).hour for t in chosen if t.status == "done")
    complaints = [t.visit.complaint for t in chosen if t.visit is not None and t.visit.complaint is not None]
    today = clock.today()
    bad_visits = [t.visit for t in chosen if t.visit is not None and (t.visit.rating or 5) <= 2]
    late = sum(1 for v in bad_visits if add_working_days(Hall(), clock.business_date(v.rated_at), 15) < today)
    return {
        # Each bad rating opened one case; the hand-built hall rectifies none of them, so every
        # case past its due date counts against the on-time rate.
        "quality": {
            "cases": len(bad_visits),
            "rectified": 0,
            "rectified_on_time": 0,
            "on_time_rate": 0.0 if late else None,
            "overdue": late,
            "followed_up": 0,
            "follow_up_rate": None,
            "reached": 0,
            "reply_rate": None,
        },
        "totals": figures(chosen, transfers),
        "services": per_service,
        "staff": staff,
        "counters": counters,
        "hours": [
            {"hour": h, "issued": arrivals[h], "served": finished[h]}
            for h in range(24)
            if arrivals[h] or finished[h]
        ],
        "complaints": {
            "opened": len(complaints),
            "resolved": sum(1 for c in complaints if c.status in ("resolved", "closed")),
            "open": sum(1 for c in complaints if c.status in ("open", "investigating")),
            "overdue": sum(
                1
                for c in complaints
                if c.due_date and c.due_date < today and c.status in ("open", "investigating")
            ),
        },
    }


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """The report reduced to the fields the independent computation gives."""
    service_keys = ("code", "target_wait_min", *result["totals"].keys())
    person_keys = ("served", "no_show", "transferred_out", "service_time", "satisfaction")
    return {
        "totals": result["totals"],
        "services": [{k: s[k] for k in service_keys} for s in result["services"]],
        "staff": [{"username": p["username"], **{k: p[k] for k in person_keys}} for p in result["staff"]],
        "counters": [{"name": c["name"], **{k: c[k] for k in person_keys}} for c in result["counters"]],
        "hours": result["hours"],
        "complaints": result["complaints"],
        "quality": result["quality"],
    }


PERIODS = {"monday": (MONDAY, MONDAY), "tuesday": (TUESDAY, TUESDAY), "three days": (MONDAY, WEDNESDAY)}
FILTERS = ["all", "service A", "service B", "service C", "counter 1", "counter 2", "clerk u1", "clerk u2"]


def make_filter(name: str, ids: dict[str, int]) -> ReportFilter:
    if name == "all":
        return ReportFilter()
    kind, value = name.split()
    if kind == "service":
        return ReportFilter(service_id=ids[value])
    if kind == "counter":
        return ReportFilter(counter_id=ids["c" + value])
    return ReportFilter(staff_id=ids[value])


@pytest.mark.parametrize("period", list(PERIODS))
@pytest.mark.parametrize("filter_name", FILTERS)
def test_every_figure_matches_an_independent_computation(session, clock, hall, period, filter_name):
    first, last = PERIODS[period]
    where = make_filter(filter_name, hall["ids"])

    live = report(session, clock, first, last, where)

    assert comparable(live) == expected(session, clock, first, last, where)


def test_closed_days_are_stored_and_a_late_rating_still_counts(session, clock, hall):
    days = dict(session.execute(select(ReportDay.business_date, ReportDay.final)).all())
    assert days == {MONDAY: False, WEDNESDAY: False}  # closed, but visitors may still rate
    before = report(session, clock, MONDAY, MONDAY)["totals"]["satisfaction"]

    rate_visit(session, clock, hall["tokens"]["t8"], 1)  # Thursday: Monday's visit rated late
    session.commit()

    after = report(session, clock, MONDAY, MONDAY)["totals"]["satisfaction"]
    assert after["ratings"] == before["ratings"] + 1
    assert after["distribution"]["1"] == before["distribution"]["1"] + 1
    for name in FILTERS:
        where = make_filter(name, hall["ids"])
        assert comparable(report(session, clock, MONDAY, WEDNESDAY, where)) == expected(
            session, clock, MONDAY, WEDNESDAY, where
        ), name


def test_the_same_figures_come_from_final_cells_and_from_the_tickets(session, clock, hall):
    from_tickets = {}
    for name in FILTERS:
        session.execute(delete(ReportCell))
        session.execute(delete(ReportDay))
        from_tickets[name] = report(session, clock, MONDAY, WEDNESDAY, make_filter(name, hall["ids"]))
    session.rollback()

    clock.set(at(date(2026, 1, 20), "01:00"))
    close_business_day(session, clock)
    session.commit()

    days = dict(session.execute(select(ReportDay.business_date, ReportDay.final)).all())
    assert days == {MONDAY: True, WEDNESDAY: True}  # Tuesday had no ticket: nothing to store
    assert session.scalar(select(func.count()).select_from(ReportCell)) > 0
    for name in FILTERS:
        stored = report(session, clock, MONDAY, WEDNESDAY, make_filter(name, hall["ids"]))
        assert {k: v for k, v in stored.items() if k != "complaints"} == {
            k: v for k, v in from_tickets[name].items() if k != "complaints"
        }, name
        assert comparable(stored) == expected(
            session, clock, MONDAY, WEDNESDAY, make_filter(name, hall["ids"])
        )
    assert finalize_days(session, clock) == []  # nothing left to store


def test_the_hand_built_day_reads_as_the_hall_lived_it(session, clock, hall):
    ids = hall["ids"]
    monday = report(session, clock, MONDAY, MONDAY)
    totals = monday["totals"]

    assert (totals["issued"], totals["served"], totals["no_show"], totals["cancelled"]) == (8, 5, 1, 1)
    assert (totals["expired"], totals["open"], totals["transferred_out"]) == (1, 0, 1)
    # Waits: t1 4:00, t2 5:30, t4 9:10 (to its first call, before the transfer), t5 1:00,
    # t8 25:00 (over B's 20 min), t6 10:00; t3 (cancelled) and t7 (expired) were never called.
    assert totals["wait"] == {"count": 6, "mean_s": 546.7, "median_s": 440.0, "p90_s": 1500.0}
    assert totals["over_target"] == {"count": 1, "of": 6, "share": 0.167}
    # Walks: t1 1:00, t4 1:00 (call 9:20 -> start 9:21 in B), t6 2:20; t5 and t8 never "started".
    assert totals["walk"]["count"] == 3
    # The visit across midnight counts on Monday, its service in hour 00.
    assert {h["hour"]: h["served"] for h in monday["hours"]}[0] == 1
    assert report(session, clock, TUESDAY, TUESDAY)["totals"]["issued"] == 0
    a = next(s for s in monday["services"] if s["code"] == "A")
    assert (a["issued"], a["served"], a["no_show"], a["transferred_out"], a["expired"]) == (3, 2, 1, 1, 0)
    u1 = next(p for p in monday["staff"] if p["user_id"] == ids["u1"])
    assert (u1["served"], u1["no_show"], u1["transferred_out"]) == (2, 0, 1)
    assert monday["complaints"] == {"opened": 1, "resolved": 0, "open": 1, "overdue": 1}
    assert monday["totals"]["satisfaction"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}


def test_the_export_rows_hold_every_figure_once(session, clock, hall):
    result = report(session, clock, MONDAY, WEDNESDAY)
    rows = figure_rows(result)
    keys = [(section, key, figure) for section, key, figure, _ in rows]

    assert len(keys) == len(set(keys))
    as_dict = {(section, key, figure): value for section, key, figure, value in rows}
    assert as_dict[("totals", "", "served")] == result["totals"]["served"]
    assert as_dict[("totals", "", "wait.p90_s")] == result["totals"]["wait"]["p90_s"]
    assert as_dict[("service", "B", "over_target.count")] == 1
    assert as_dict[("clerk", "u2", "no_show")] == 1
    assert as_dict[("hour", "00", "served")] == 1


def test_a_report_refuses_a_backward_or_too_long_period(session, clock, hall):
    with pytest.raises(ValueError):
        report(session, clock, WEDNESDAY, MONDAY)
    with pytest.raises(ValueError):
        report(session, clock, MONDAY, MONDAY + timedelta(days=366))


# -- staffing plan ---------------------------------------------------------------------------


def test_erlang_c_matches_the_textbook_values():
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = utilisation
    assert erlang_c(2, 2.0) == 1.0
    assert mean_wait_s(2, 12, 300) == pytest.approx(100.0)  # a = 1: C = 1/3, W = C * 300 / 1
    assert mean_wait_s(1, 6, 300) == pytest.approx(300.0)  # M/M/1: W = rho / (1 - rho) * h
    assert mean_wait_s(1, 12, 300) == math.inf  # 1 Erlang on one counter: overloaded


@pytest.mark.parametrize(
    ("arrivals", "handling", "target", "needed"),
    [(0, 300, 600, 0), (24, 300, 60, 4), (24, 300, 3600, 3), (6, 300, 600, 1), (100, 180, 120, 6)],
)
def test_counters_needed_is_the_fewest_keeping_the_mean_wait_under_target(arrivals, handling, target, needed):
    assert counters_needed(arrivals, handling, target) == needed
    if needed:
        assert mean_wait_s(needed, arrivals, handling) <= target
        assert (
            needed - 1 <= arrivals * handling / 3600 or mean_wait_s(needed - 1, arrivals, handling) > target
        )


def test_the_staffing_plan_uses_that_weekdays_arrivals_and_the_counters_sessions(session, clock, hall):
    plan = staffing_plan(session, clock, weekday=0, weeks=1, target_min=10)

    tickets = session.scalars(select(Ticket).where(Ticket.business_date == MONDAY)).all()
    arrivals = Tally(clock.local(t.issued_at).hour for t in tickets)
    assert plan["days"] == [MONDAY.isoformat()]
    assert {h["hour"]: h["arrivals_per_h"] for h in plan["hours"] if h["arrivals_per_h"]} == {
        h: float(n) for h, n in arrivals.items()
    }
    done = [t for t in tickets if t.status == "done"]
    walks = [
        seconds(t.started_at, t.called_at) for t in tickets if t.started_at and t.started_at > t.called_at
    ]
    handling = sum(walks) / len(walks) + sum(seconds(t.finished_at, t.started_at) for t in done) / len(done)
    assert plan["handling_s"] == round(handling, 1)
    for row in plan["hours"]:
        assert row["needed"] == counters_needed(row["arrivals_per_h"], handling, 600)
    # Counter 1 opened at its first call (09:04) and stayed open until the day was closed
    # (Tuesday 01:00), so it was open the whole of 10:00-11:00; counter 2 too (from 09:06:30).
    sessions = session.scalars(select(CounterSession)).all()
    assert len(sessions) >= 2
    ten = next(h for h in plan["hours"] if h["hour"] == 10)
    assert ten["open"] == 2.0
    nine = next(h for h in plan["hours"] if h["hour"] == 9)
    assert nine["open"] == round((56 + 53.5) / 60, 1)


# -- the hall live -----------------------------------------------------------------------------


def test_the_live_view_shows_queues_against_targets_and_counters(
    session, clock, make_service, make_counter, make_user
):
    a = make_service("A", target_wait_min=10)
    b = make_service("B", target_wait_min=20)
    counter = make_counter("7", [a, b])
    clerk = make_user("clerk7")
    clock.set(at(MONDAY, "09:00"))
    first = issue_ticket(session, clock, "A")
    issue_ticket(session, clock, "A")
    issue_ticket(session, clock, "B")
    session.commit()
    clock.set(at(MONDAY, "09:08:30"))

    view = hall_overview(session, clock)

    service_a = next(s for s in view["services"] if s["code"] == "A")
    assert (service_a["waiting"], service_a["longest_wait_s"], service_a["level"]) == (2, 510, "near")
    assert next(s for s in view["services"] if s["code"] == "B")["level"] == "ok"
    assert view["alerts"] == []

    clock.set(at(MONDAY, "09:10:01"))
    called = call_next(session, clock, counter.id, clerk.id)
    session.commit()
    assert called.token == first.token
    clock.set(at(MONDAY, "09:12:00"))
    view = hall_overview(session, clock)

    service_a = next(s for s in view["services"] if s["code"] == "A")
    assert (service_a["waiting"], service_a["longest_wait_s"], service_a["level"]) == (1, 720, "over")
    assert view["alerts"] == [{"service": "A", "longest_wait_s": 720, "target_wait_min": 10}]
    row = next(c for c in view["counters"] if c["id"] == counter.id)
    assert (row["state"], row["clerk"], row["ticket"], row["ticket_status"], row["for_s"]) == (
        "open",
        "clerk7",
        called.number,
        "called",
        119,
    )
    start_service(session, clock, called.token, counter_id=counter.id)
    clock.set(at(MONDAY, "09:20:00"))
    finish_visit(session, clock, called.token, VisitRecord("resolved"), counter_id=counter.id)
    session.commit()
    view = hall_overview(session, clock)
    assert next(s for s in view["services"] if s["code"] == "A")["served_today"] == 1
    assert next(c for c in view["counters"] if c["id"] == counter.id)["served_today"] == 1
    assert view["served_total"] == 1 and view["waiting_total"] == 2


def test_complaints_count_as_of_now(session, clock, hall):
    complaint = session.scalars(select(Complaint)).one()
    complaint.status = "resolved"
    session.commit()

    assert report(session, clock, MONDAY, MONDAY)["complaints"] == {
        "opened": 1,
        "resolved": 1,
        "open": 0,
        "overdue": 0,
    }


def test_a_whole_final_month_is_read_from_its_merged_cells(session, clock, hall):
    clock.set(at(date(2026, 2, 20), "01:00"))
    close_business_day(session, clock)
    session.commit()

    assert set(session.scalars(select(ReportMonth.month))) == {date(2026, 1, 1)}
    month_cells = load_cells(session, clock, date(2026, 1, 1), date(2026, 1, 31))
    day_cells = load_cells(session, clock, date(2026, 1, 1), date(2026, 1, 31), months=False)
    assert {c.business_date for c in month_cells} == {date(2026, 1, 1)}
    assert {c.business_date for c in day_cells} == {MONDAY, WEDNESDAY}
    assert len(month_cells) < len(day_cells)
    for name in FILTERS:
        where = make_filter(name, hall["ids"])
        for first, last in ((date(2026, 1, 1), date(2026, 1, 31)), (date(2025, 12, 20), date(2026, 2, 10))):
            assert comparable(report(session, clock, first, last, where)) == expected(
                session, clock, first, last, where
            ), (name, first)


@pytest.mark.parametrize("complaints_first", [True, False])
@pytest.mark.parametrize("filter_name", FILTERS)
def test_complaints_count_the_same_from_either_side_of_the_join(
    session, clock, hall, complaints_first, filter_name
):
    where = make_filter(filter_name, hall["ids"])

    figures = complaint_figures(session, clock, MONDAY, WEDNESDAY, where, complaints_first=complaints_first)

    assert figures == expected(session, clock, MONDAY, WEDNESDAY, where)["complaints"]


def test_a_report_title_fits_its_period():
    assert report_title(date(2026, 11, 5), date(2026, 11, 5)) == "统计日报 2026-11-05"
    assert report_title(date(2026, 11, 1), date(2026, 11, 30)) == "统计报表 2026-11-01 至 2026-11-30"
    assert report_title("2026-11-01", "2026-11-30", "en") == "Report 2026-11-01 to 2026-11-30"
