"""Report figures for a business day or a range, optionally for one service, counter or clerk.

Everything is summed from report cells (see ``report_cells``: what each figure counts, which
cell a ticket belongs to, how durations are measured); complaints are read live, since their
status moves on after the day.  Durations are whole seconds; a summary gives their count,
mean, median (the middle value, or the mean of the two middle ones) and 90th percentile
(nearest rank: the smallest value with at least 90% of the values at or below it).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import Any, TypedDict

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.dates import DateRange
from queue_engine.core.models import Complaint, Counter, Service, Ticket, User, Visit
from queue_engine.quality.figures import ranking, rectification_figures, share
from queue_engine.reporting.accuracy import KINDS, estimate_accuracy
from queue_engine.reporting.bookings import booking_counts, wait_tallies
from queue_engine.reporting.cells import load_cells
from queue_engine.reporting.counting import COUNT_FIELDS, Cell, by_position, group, joined

NEAR_TARGET = 0.8  # a longest wait past this share of the target is "near" (amber)


class FilterIds(TypedDict):
    """A report filter as keyword arguments."""

    service_id: int | None
    counter_id: int | None
    staff_id: int | None


@dataclass(frozen=True)
class ReportFilter:
    """Which tickets a report covers: by the service issued for, the last counter, the clerk."""

    service_id: int | None = None
    counter_id: int | None = None
    staff_id: int | None = None

    def ids(self) -> FilterIds:
        """The filter as the keyword arguments the figure functions take."""
        return {"service_id": self.service_id, "counter_id": self.counter_id, "staff_id": self.staff_id}


def summarise(values: Tally[int]) -> dict[str, Any]:
    """Count, mean, median and 90th percentile (nearest rank) of whole-second durations."""
    count = sum(values.values())
    if not count:
        return {"count": 0, "mean_s": None, "median_s": None, "p90_s": None}
    wanted = sorted({(count + 1) // 2, count // 2 + 1, max(1, -(-9 * count // 10))})
    found: dict[int, int] = {}
    seen = 0
    for value in sorted(values):
        seen += values[value]
        while wanted and wanted[0] <= seen:
            found[wanted.pop(0)] = value
        if not wanted:
            break
    median = (found[(count + 1) // 2] + found[count // 2 + 1]) / 2
    total = sum(v * n for v, n in values.items())
    return {
        "count": count,
        "mean_s": round(total / count, 1),
        "median_s": round(median, 1),
        "p90_s": float(found[max(1, -(-9 * count // 10))]),
    }


def _tally(cells: Iterable[Cell], name: str) -> Tally[int]:
    return Tally(joined(cells, name))


_COUNTS = attrgetter(*COUNT_FIELDS)


def _counts(cells: list[Cell]) -> dict[str, int]:
    if not cells:
        return dict.fromkeys(COUNT_FIELDS, 0)
    columns = zip(*map(_COUNTS, cells), strict=True)
    return {name: sum(column) for name, column in zip(COUNT_FIELDS, columns, strict=True)}


def _satisfaction(ratings: list[int], served: int) -> dict[str, Any]:
    rated = sum(ratings)
    return {
        "ratings": rated,
        "mean": round(sum((i + 1) * n for i, n in enumerate(ratings)) / rated, 2) if rated else None,
        "distribution": {str(i + 1): ratings[i] for i in range(5)},
        # Rating coverage: rated visits / served visits.
        "response_rate": share(rated, served),
        # Satisfaction rate (满意率): 满意 and 非常满意 among the ratings.
        "satisfaction_rate": share(ratings[3] + ratings[4], rated),
        "bad": ratings[0] + ratings[1],
    }


def _over(waits: Tally[int], target_s: int) -> int:
    return sum(n for value, n in waits.items() if value > target_s)


def _group_figures(cells: list[Cell], target_s: int | None) -> tuple[dict[str, Any], dict[str, Tally[int]]]:
    """A group's figures, and its duration tallies (for the totals to add up)."""
    counts = _counts(cells)
    tallies = {name: _tally(cells, name) for name in ("waits", "walks", "service_times")}
    ratings = by_position(cells, "ratings", 5)
    figures: dict[str, Any] = {
        **counts,
        "wait": summarise(tallies["waits"]),
        "walk": summarise(tallies["walks"]),
        "service_time": summarise(tallies["service_times"]),
        "satisfaction": _satisfaction(ratings, counts["served"]),
        "_ratings": ratings,
    }
    if target_s is not None:
        waited = sum(tallies["waits"].values())
        over = _over(tallies["waits"], target_s)
        figures["over_target"] = {"count": over, "of": waited, "share": share(over, waited)}
    return figures, tallies


def _person_figures(cells: list[Cell]) -> dict[str, Any]:
    counts = _counts(cells)
    return {
        "served": counts["served"],
        "no_show": counts["no_show"],
        "transferred_out": counts["transferred_out"],
        "service_time": summarise(_tally(cells, "service_times")),
        "satisfaction": _satisfaction(by_position(cells, "ratings", 5), counts["served"]),
    }


LONG_PERIOD_DAYS = 31

# Over a long period there are far fewer complaints than tickets: start from the complaints.
# CROSS JOIN keeps that order on SQLite (its planner would start from the tickets' date index);
# PostgreSQL plans a CROSS JOIN with join conditions in WHERE like any inner join.
_COMPLAINTS_FIRST = """
SELECT c.status, CASE WHEN c.due_date < :today THEN 1 ELSE 0 END AS late, COUNT(*)
FROM complaints c CROSS JOIN visits v CROSS JOIN tickets t
WHERE v.id = c.visit_id AND t.id = v.ticket_id AND t.business_date BETWEEN :first AND :last {filters}
GROUP BY c.status, late
"""


def complaint_figures(
    session: Session,
    clock: Clock,
    first: date,
    last: date,
    where: ReportFilter,
    *,
    complaints_first: bool | None = None,
) -> dict[str, int]:
    """Complaints raised at the period's visits: opened, resolved (or closed), still open, overdue.

    Overdue as ``complaints.is_overdue``: past its due date and neither resolved nor closed.
    ``complaints_first`` chooses the join order (default: for periods over LONG_PERIOD_DAYS).
    """
    today = clock.today()
    if complaints_first is None:
        complaints_first = (last - first).days + 1 > LONG_PERIOD_DAYS
    filters = {
        "service_id": ("t.issued_service_id", Ticket.issued_service_id, where.service_id),
        "counter_id": ("t.counter_id", Ticket.counter_id, where.counter_id),
        "staff_id": ("t.staff_id", Ticket.staff_id, where.staff_id),
    }
    chosen = {name: spec for name, spec in filters.items() if spec[2] is not None}
    if complaints_first:
        sql = _COMPLAINTS_FIRST.format(
            filters="".join(f" AND {col} = :{name}" for name, (col, _, _) in chosen.items())
        )
        params = {"today": today, "first": first, "last": last, **{n: spec[2] for n, spec in chosen.items()}}
        rows = session.execute(text(sql), params).all()
    else:
        late = case((Complaint.due_date < today, 1), else_=0)
        query = (
            select(Complaint.status, late, func.count())
            .join(Visit, Complaint.visit_id == Visit.id)
            .join(Ticket, Visit.ticket_id == Ticket.id)
            .where(
                Ticket.business_date.between(first, last),
                *(column == value for _, column, value in chosen.values()),
            )
            .group_by(Complaint.status, late)
        )
        rows = session.execute(query).all()
    figures = {"opened": 0, "resolved": 0, "open": 0, "overdue": 0}
    for status, is_late, n in rows:
        figures["opened"] += n
        if status in ("resolved", "closed"):
            figures["resolved"] += n
        else:
            figures["open"] += n
            figures["overdue"] += n if is_late else 0
    return figures


DEFAULT_MIN_RATINGS = 10


def booking_figures(session: Session, first: date, last: date, where: ReportFilter) -> dict[str, Any]:
    """The period's bookings, no-show rate and punctuality, and booked visitors' waits beside walk-ins'."""
    booked, walk_in = wait_tallies(session, first, last, **where.ids())
    return {
        **booking_counts(session, first, last, where.service_id),
        "wait_booked": summarise(booked),
        "wait_walk_in": summarise(walk_in),
    }


def _in_hall_order(cells: list[Cell], services: dict[int, Service]) -> list[tuple[int, list[Cell]]]:
    """The cells grouped by service, in the hall's order of services (unknown ones last)."""

    def position(item: tuple[int, list[Cell]]) -> tuple[int, str]:
        service = services.get(item[0])
        return (service.sort_order, service.code) if service else (1 << 30, "")

    return sorted(group(cells, "service_id").items(), key=position)


def _service_rows(
    cells: list[Cell], services: dict[int, Service]
) -> tuple[list[dict[str, Any]], dict[str, Tally[int]], int]:
    """Per service (in the hall's order): its figures; with the durations and the waits over target of all."""
    rows = []
    tallies: dict[str, Tally[int]] = {"waits": Tally(), "walks": Tally(), "service_times": Tally()}
    over_total = 0
    for service_id, group_cells in _in_hall_order(cells, services):
        service = services.get(service_id)
        figures, group_tallies = _group_figures(group_cells, (service.target_wait_min if service else 0) * 60)
        figures.pop("_ratings")
        for name, tally in group_tallies.items():
            tallies[name] += tally
        over_total += figures["over_target"]["count"]
        rows.append(
            {
                "service_id": service_id,
                "code": service.code if service else str(service_id),
                "name": dict(service.names) if service else {},
                "target_wait_min": service.target_wait_min if service else None,
                **figures,
            }
        )
    return rows, tallies, over_total


def _totals(cells: list[Cell], tallies: dict[str, Tally[int]], over_total: int) -> dict[str, Any]:
    """The whole period's volumes, times, waits over target and satisfaction."""
    counts = _counts(cells)
    waited = sum(tallies["waits"].values())
    return {
        **counts,
        "wait": summarise(tallies["waits"]),
        "walk": summarise(tallies["walks"]),
        "service_time": summarise(tallies["service_times"]),
        "over_target": {"count": over_total, "of": waited, "share": share(over_total, waited)},
        "satisfaction": _satisfaction(by_position(cells, "ratings", 5), counts["served"]),
    }


def _hour_rows(cells: list[Cell]) -> list[dict[str, int]]:
    """Tickets issued and served per hour of the day, hours with neither left out."""
    arrivals = by_position(cells, "arrivals_by_hour", 24)
    served = by_position(cells, "served_by_hour", 24)
    return [
        {"hour": h, "issued": arrivals[h], "served": served[h]} for h in range(24) if arrivals[h] or served[h]
    ]


def _staff_rows(cells: list[Cell], users: dict[int, User]) -> list[dict[str, Any]]:
    """Per clerk who held tickets: what they did."""
    by_staff = group([c for c in cells if c.staff_id is not None], "staff_id")
    return [
        {
            "user_id": uid,
            "username": users[uid].username if uid in users else None,
            "display_name": users[uid].display_name if uid in users else None,
            **_person_figures(group_cells),
        }
        for uid, group_cells in sorted(by_staff.items())
    ]


def _counter_rows(cells: list[Cell], counters: dict[int, Counter]) -> list[dict[str, Any]]:
    """Per counter that held tickets: what was done there."""
    by_counter = group([c for c in cells if c.counter_id is not None], "counter_id")
    return [
        {
            "counter_id": cid,
            "name": counters[cid].name if cid in counters else str(cid),
            **_person_figures(group_cells),
        }
        for cid, group_cells in sorted(by_counter.items())
    ]


def _did_something(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The clerks or counters that served, marked a no-show or transferred in the period."""
    return [r for r in rows if r["served"] or r["no_show"] or r["transferred_out"]]


def report(
    session: Session,
    clock: Clock,
    first: date,
    last: date,
    where: ReportFilter | None = None,
    *,
    min_ratings: int = DEFAULT_MIN_RATINGS,
) -> dict[str, Any]:
    """Every figure of the period, as plain values (the page, the exports and the API show these)."""
    DateRange(first, last)  # refuses a backward or too long period (InvalidDateRange)
    where = where or ReportFilter()
    cells = load_cells(session, clock, first, last, **where.ids())
    services = {s.id: s for s in session.scalars(select(Service))}
    counters = {c.id: c for c in session.scalars(select(Counter))}
    users = {u.id: u for u in session.scalars(select(User))}
    per_service, tallies, over_total = _service_rows(cells, services)
    staff = _staff_rows(cells, users)
    counter_rows = _counter_rows(cells, counters)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days": (last - first).days + 1,
        "filters": {
            "service": services[where.service_id].code if where.service_id in services else None,
            "counter": where.counter_id,
            "clerk": users[where.staff_id].username if where.staff_id in users else None,
        },
        "totals": _totals(cells, tallies, over_total),
        "hours": _hour_rows(cells),
        "services": per_service,
        "staff": _did_something(staff),
        "counters": _did_something(counter_rows),
        "complaints": complaint_figures(session, clock, first, last, where),
        "quality": rectification_figures(session, clock, first, last, **where.ids()),
        "bookings": booking_figures(session, first, last, where),
        "ranking": {
            "min_ratings": min_ratings,
            "staff": ranking(staff, min_ratings),
            "counters": ranking(counter_rows, min_ratings),
        },
        # By the service filter only: an estimate is shown at issue, before any counter or clerk.
        "estimate_accuracy": estimate_accuracy(session, first, last, service_id=where.service_id),
    }


def daily_summary(
    session: Session, clock: Clock, day: date, *, min_ratings: int = DEFAULT_MIN_RATINGS
) -> dict[str, Any]:
    """One business day's report with the daily summary's field ``date`` (GET /stats/daily)."""
    return {"date": day.isoformat(), **report(session, clock, day, day, min_ratings=min_ratings)}


def wait_level(longest_s: float | None, target_min: int) -> str:
    """'over' past the target, 'near' past NEAR_TARGET of it, else 'ok' (the live page's colours)."""
    if longest_s is None or target_min <= 0:
        return "ok"
    target_s = target_min * 60
    if longest_s > target_s:
        return "over"
    return "near" if longest_s >= NEAR_TARGET * target_s else "ok"


# -- The flat table the CSV and XLSX exports hold, and the page marks (data-figure) ----------

SUMMARY_KEYS = ("count", "mean_s", "median_s", "p90_s")
COUNT_KEYS = ("issued", "served", "no_show", "cancelled", "transferred_out", "expired", "open")


def _group_rows(section: str, key: str, figures: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    rows: list[tuple[str, str, str, Any]] = []
    for name in COUNT_KEYS:
        if name in figures:
            rows.append((section, key, name, figures[name]))
    for timing in ("wait", "walk", "service_time"):
        if timing in figures:
            rows += [(section, key, f"{timing}.{k}", figures[timing][k]) for k in SUMMARY_KEYS]
    if "over_target" in figures:
        rows += [(section, key, f"over_target.{k}", figures["over_target"][k]) for k in ("count", "share")]
    sat = figures["satisfaction"]
    rows += [
        (section, key, f"satisfaction.{k}", sat[k])
        for k in ("ratings", "mean", "response_rate", "satisfaction_rate", "bad")
    ]
    rows += [(section, key, f"satisfaction.rated_{n}", sat["distribution"][str(n)]) for n in range(1, 6)]
    return rows


ACCURACY_KEYS = ("tickets", "close_share", "median_abs_error_s", "bias_s")


def _accuracy_rows(key: str, figures: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """The estimate accuracy of the whole hall (key "") or one service: all, walk-in, booked."""
    rows = [("estimate_accuracy", key, name, figures[name]) for name in ACCURACY_KEYS]
    for kind in KINDS:
        rows += [("estimate_accuracy", key, f"{kind}.{name}", figures[kind][name]) for name in ACCURACY_KEYS]
    return rows


def figure_rows(result: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """Every figure of a report as (section, key, figure, value): the exports' rows, in order."""
    rows: list[tuple[str, str, str, Any]] = [
        ("period", "", "from", result["from"]),
        ("period", "", "to", result["to"]),
        ("period", "", "days", result["days"]),
        *(("filter", "", name, value) for name, value in result["filters"].items() if value is not None),
    ]
    rows += _group_rows("totals", "", result["totals"])
    rows += [("complaints", "", name, value) for name, value in result["complaints"].items()]
    rows += [("quality", "", name, value) for name, value in result["quality"].items()]
    for name, value in result["bookings"].items():
        if isinstance(value, dict):
            rows += [("bookings", "", f"{name}.{k}", value[k]) for k in SUMMARY_KEYS]
        else:
            rows.append(("bookings", "", name, value))
    rows += _accuracy_rows("", result["estimate_accuracy"])
    for code, figures in result["estimate_accuracy"]["services"].items():
        rows += _accuracy_rows(code, figures)
    rows.append(("ranking", "", "min_ratings", result["ranking"]["min_ratings"]))
    for person in result["ranking"]["staff"]:
        rows.append(("ranking_staff", person["username"] or str(person["user_id"]), "rank", person["rank"]))
    for counter in result["ranking"]["counters"]:
        rows.append(("ranking_counters", counter["name"], "rank", counter["rank"]))
    hours = {h["hour"]: h for h in result["hours"]}
    for hour in range(24):
        if hour in hours:
            rows.append(("hour", f"{hour:02d}", "issued", hours[hour]["issued"]))
            rows.append(("hour", f"{hour:02d}", "served", hours[hour]["served"]))
    for service in result["services"]:
        rows += _group_rows("service", service["code"], service)
    for person in result["staff"]:
        rows += _group_rows("clerk", person["username"] or str(person["user_id"]), person)
    for counter in result["counters"]:
        rows += _group_rows("counter", counter["name"], counter)
    return rows
