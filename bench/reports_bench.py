#!/usr/bin/env python3
"""How fast the reports answer over a year of simulated history (>= 500,000 tickets).

Builds (once; cached in bench/results/reports-year.sqlite3, git-ignored) a large hall of
6 services, 34 counters and 34 clerks, and its history:

1. ``--engine-days`` (default 14: two weeks, so weekdays line up) past days made by
   ``queue_engine.simulation.simulate``, i.e. through the engine's own operations;
2. that block copied backwards, whole weeks apart, with every date and instant shifted, until
   the history covers ``--days`` (default 364) days.  Simulating all 500,000 tickets through
   the engine would take about 1.5 hours on a 2-core machine (~90 tickets/s, about 20 SQL
   statements per ticket); the copies hold the same kind of rows the engine wrote, and the
   reports' speed depends on how many rows there are, not on whether two weeks look alike.
   ``--engine-days 364`` simulates the whole year through the engine instead.
3. ``finalize_days`` stores the report cells of every final day (``close_business_day`` does
   it day by day in a running hall).

Then each report is timed (best and worst of ``--repeat`` runs, in-process, same code path as
the web pages minus HTML): nothing is asserted, the figures are printed and written to
bench/results/reports.md.  Run: ``.venv/bin/python bench/reports_bench.py``.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queue_engine import FakeClock  # noqa: E402
from queue_engine.core.db import make_engine  # noqa: E402
from queue_engine.core.kinds import Category, Role  # noqa: E402
from queue_engine.core.models import Base, Counter, ReportDay, ReportMonth, Service, Ticket, User  # noqa: E402
from queue_engine.hall.calendar import hall_settings  # noqa: E402
from queue_engine.reporting.cells import CELL_VERSION, finalize_days  # noqa: E402
from queue_engine.reporting.reports import ReportFilter, figure_rows, report  # noqa: E402
from queue_engine.simulation import SimulationSettings, simulate  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DATABASE = RESULTS / "reports-year.sqlite3"
TZ = ZoneInfo("Asia/Shanghai")
END = date(2026, 11, 20)  # a Friday: the last day of the history (fixed, so runs compare)
HISTORY_VERSION = 1  # bump when the hall or the generator changes: the cache is rebuilt
SERVICES = [
    ("A", {"zh": "咨询", "en": "Inquiry"}, Category.INQUIRY, 10),
    ("B", {"zh": "办理", "en": "Transactions"}, Category.TRANSACTION, 20),
    ("C", {"zh": "投诉", "en": "Complaints"}, Category.COMPLAINT, 15),
    ("D", {"zh": "证照领取", "en": "Document collection"}, Category.OTHER, 10),
    ("E", {"zh": "社保", "en": "Social insurance"}, Category.TRANSACTION, 20),
    ("F", {"zh": "税务咨询", "en": "Tax inquiry"}, Category.INQUIRY, 15),
]
COUNTERS = 34


def build_hall(session: Session) -> None:
    """The large hall: 6 services, 34 counters serving 2-6 services each, 34 clerks."""
    hall = hall_settings(session)
    hall.name = {"zh": "基准大厅", "en": "Benchmark hall"}
    services = []
    for order, (code, names, category, target) in enumerate(SERVICES):
        service = Service(
            code=code, prefix=code, names=names, category=category, target_wait_min=target, sort_order=order
        )
        session.add(service)
        services.append(service)
    session.flush()
    patterns = ["AB", "ABF", "BE", "BCE", "AD", "DF", "ABCDEF", "AEF", "BD"]
    for n in range(1, COUNTERS + 1):
        counter = Counter(id=n, name=str(n), state="closed", active=True)
        counter.services = [s for s in services if s.code in patterns[n % len(patterns)]]
        session.add(counter)
    for n in range(1, COUNTERS + 1):
        session.add(
            User(username=f"clerk{n:02d}", display_name=f"Clerk {n}", role=Role.CLERK, password_hash="x")
        )
    session.add(
        User(username="supervisor", display_name="Supervisor", role=Role.SUPERVISOR, password_hash="x")
    )
    session.commit()


def _shift(column: str, days: int) -> str:
    # Whole days in UTC keep local hours in a timezone without daylight saving (Asia/Shanghai).
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE "
        f"strftime('%Y-%m-%d %H:%M:%S', {column}, '{days:+d} days') || substr({column}, 20) END"
    )


def copy_block(path: Path, first: date, last: date, days_back: int) -> None:
    """Copy the history of first..last to ``days_back`` days earlier, with new ids and tokens."""
    con = sqlite3.connect(path)
    cur = con.cursor()
    bounds = (first.isoformat(), last.isoformat())
    (ticket_off,) = cur.execute("SELECT max(id) FROM tickets").fetchone()
    (visit_off,) = cur.execute("SELECT coalesce(max(id), 0) FROM visits").fetchone()
    (event_off,) = cur.execute("SELECT max(id) FROM ticket_events").fetchone()
    tickets_in = "SELECT id FROM tickets WHERE business_date BETWEEN ? AND ?"
    d = -days_back
    cur.execute("BEGIN")
    cur.execute(
        f"""INSERT INTO tickets (id, token, service_id, issued_service_id, business_date, sequence, number,
            status, priority, lang, source, issued_at, called_at, started_at, finished_at, closed_at,
            call_count,
            counter_id, staff_id, transferred_from_id, transfer_count, request_key)
        SELECT id + {ticket_off}, token || '-{days_back}', service_id, issued_service_id,
            date(business_date, '{d} days'), sequence, number, status, priority, lang, source,
            {_shift("issued_at", d)}, {_shift("called_at", d)}, {_shift("started_at", d)},
            {_shift("finished_at", d)}, {_shift("closed_at", d)}, call_count, counter_id, staff_id,
            transferred_from_id, transfer_count, NULL
        FROM tickets WHERE business_date BETWEEN ? AND ?""",
        bounds,
    )
    cur.execute(
        f"""INSERT INTO visits (id, ticket_id, service_id, counter_id, staff_id, outcome, customer_name,
            contact, description, notes, finished_at, rating, rating_efficiency, rating_level,
            rating_attitude,
            rating_comment, rated_at, rating_source, follow_up_done_at)
        SELECT id + {visit_off}, ticket_id + {ticket_off}, service_id, counter_id, staff_id, outcome,
            customer_name, contact, description, notes, {_shift("finished_at", d)}, rating,
            rating_efficiency, rating_level,
            rating_attitude, rating_comment, {_shift("rated_at", d)}, rating_source,
            {_shift("follow_up_done_at", d)}
        FROM visits WHERE ticket_id IN ({tickets_in})""",
        bounds,
    )
    cur.execute(
        f"""INSERT INTO ticket_events (id, ticket_id, type, at, counter_id, staff_id, data)
        SELECT id + {event_off}, ticket_id + {ticket_off}, type, {_shift("at", d)}, counter_id, staff_id, data
        FROM ticket_events WHERE ticket_id IN ({tickets_in})""",
        bounds,
    )
    cur.execute(
        f"""INSERT INTO complaints (visit_id, status, department, priority, due_date, resolution,
            follow_up_result, created_at, updated_at)
        SELECT c.visit_id + {visit_off}, c.status, c.department, c.priority, date(c.due_date, '{d} days'),
            c.resolution, c.follow_up_result, {_shift("c.created_at", d)}, {_shift("c.updated_at", d)}
        FROM complaints c JOIN visits v ON v.id = c.visit_id WHERE v.ticket_id IN ({tickets_in})""",
        bounds,
    )
    start = datetime.combine(first, datetime.min.time(), TZ).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), TZ).astimezone(UTC)
    cur.execute(
        f"""INSERT INTO counter_sessions (counter_id, staff_id, opened_at, closed_at, paused_at,
            paused_seconds, pause_count, handover_note)
        SELECT counter_id, staff_id, {_shift("opened_at", d)}, {_shift("closed_at", d)}, NULL, paused_seconds,
            pause_count, handover_note
        FROM counter_sessions WHERE opened_at >= ? AND opened_at < ?""",
        (start, end.strftime("%Y-%m-%d %H:%M:%S")),
    )
    con.commit()
    con.close()


def build_history(engine_days: int, days: int, load: float) -> None:
    """The cached database: the hall, engine-simulated days, copies, stored report cells."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(DATABASE) + suffix).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{DATABASE}")
    Base.metadata.create_all(engine)
    started = time.perf_counter()
    with Session(engine) as session:
        build_hall(session)
        settings = SimulationSettings(days=engine_days, seed=1, end=END, load=load)

        def progress(day: date, result: Any) -> None:
            rate = result.counts.get("issued", 0) / (time.perf_counter() - started)
            print(f"  simulated {day}: {result.counts.get('issued', 0)} tickets ({rate:.0f}/s)", flush=True)

        simulate(session, TZ, settings, progress)
    print(f"engine simulation: {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()
    block_first = END - timedelta(days=engine_days - 1)
    for k in range(1, days // engine_days):
        copy_block(DATABASE, block_first, END, k * engine_days)
    print(f"copied to {days} days: {time.perf_counter() - started:.0f} s", flush=True)
    settle()
    con = sqlite3.connect(DATABASE)
    con.execute("CREATE TABLE IF NOT EXISTS bench_meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT OR REPLACE INTO bench_meta VALUES ('history_version', ?)", (str(HISTORY_VERSION),))
    con.commit()
    con.close()
    print(f"history ready: {time.perf_counter() - started:.0f} s", flush=True)


def now_clock() -> FakeClock:
    """The benchmark's "now": the morning after the last simulated day."""
    return FakeClock(
        tz=TZ, current=datetime.combine(END + timedelta(days=1), datetime.min.time(), TZ).replace(hour=9)
    )


def settle() -> None:
    """Store the report cells of every final day (the ones a running hall would have stored)."""
    engine = make_engine(f"sqlite:///{DATABASE}")
    Base.metadata.create_all(engine)  # a new table of a newer layout
    started = time.perf_counter()
    with Session(engine) as session:
        stored = finalize_days(session, now_clock())
        session.commit()
    print(f"stored report cells of {len(stored)} day(s): {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


def cells_current() -> bool:
    """Whether the stored report cells are of the current layout."""
    con = sqlite3.connect(DATABASE)
    try:
        versions = {v for (v,) in con.execute("SELECT DISTINCT version FROM report_days")}
        columns = {row[1] for row in con.execute("PRAGMA table_info(report_days)")}
    except sqlite3.Error:
        return False
    finally:
        con.close()
    return versions == {CELL_VERSION} and "final" in columns


def cache_ok() -> bool:
    """Whether the cached history exists and was built by this version of the generator."""
    if not DATABASE.exists():
        return False
    con = sqlite3.connect(DATABASE)
    try:
        row = con.execute("SELECT value FROM bench_meta WHERE key = 'history_version'").fetchone()
    except sqlite3.Error:
        row = None
    con.close()
    return row is not None and row[0] == str(HISTORY_VERSION)


def http_timings(first: date, last: date, repeat: int) -> list[tuple[str, float, float]]:
    """The same reports as a supervisor's browser gets them: the Flask app, HTML, CSV, XLSX, JSON."""
    import re

    from werkzeug.security import generate_password_hash

    from kiosk import create_app

    con = sqlite3.connect(DATABASE)
    con.execute(
        "UPDATE users SET password_hash = ? WHERE username = 'supervisor'",
        (generate_password_hash("bench-password", method="pbkdf2:sha256:1000"),),
    )
    con.commit()
    con.close()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{DATABASE}",
            "QMS_CLOCK": now_clock(),
            "QMS_TICKET_RATE_LIMIT": "0",
        }
    )
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/login", data={"username": "supervisor", "password": "bench-password", "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302, answer.status_code
    year = f"from={first.isoformat()}&to={last.isoformat()}"
    urls = [
        ("HTTP: year report page (HTML, charts)", f"/supervisor/reports?{year}"),
        ("HTTP: year as CSV", f"/supervisor/reports.csv?{year}"),
        ("HTTP: year as XLSX", f"/supervisor/reports.xlsx?{year}"),
        ("HTTP: year, printable page", f"/supervisor/reports/print?{year}"),
        ("HTTP: year, clerk07, page", f"/supervisor/reports?{year}&clerk=clerk07"),
        ("HTTP: GET /api/v1/stats/daily", f"/api/v1/stats/daily?date={last.isoformat()}"),
        ("HTTP: staffing plan page", "/supervisor/staffing?weekday=0&weeks=8"),
        ("HTTP: live supervisor page", "/supervisor"),
    ]
    results = []
    for name, url in urls:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            answer = client.get(url)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200, (url, answer.status_code)
        results.append((name, min(times), max(times)))
    with app.app_context():
        from kiosk.extensions import db

        db.engine.dispose()
    return results


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best and worst wall time of ``repeat`` calls, and the last answer."""
    times = []
    answer = None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = fn()
        times.append(time.perf_counter() - started)
    return min(times), max(times), answer


def main() -> None:
    """Build or reuse the history, then time every report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="Build the history again.")
    parser.add_argument("--engine-days", type=int, default=14)
    parser.add_argument("--days", type=int, default=364)
    parser.add_argument("--load", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build-only", action="store_true", help="Build the history, time nothing.")
    args = parser.parse_args()
    if args.days % args.engine_days:
        parser.error("--days must be a multiple of --engine-days (whole copies keep the weekdays)")
    if args.rebuild or not cache_ok():
        build_history(args.engine_days, args.days, args.load)
    if args.build_only:
        return
    from queue_engine.reporting.staffing import staffing_plan
    from queue_engine.reporting.supervision import hall_overview

    if not cells_current():
        print("report cells missing or stored by an older layout: storing them again", flush=True)
        con = sqlite3.connect(DATABASE)
        for table in ("report_cells", "report_days", "report_months"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.commit()
        con.close()
        settle()
    engine = make_engine(f"sqlite:///{DATABASE}")
    clock = now_clock()
    year_first, year_last = END - timedelta(days=args.days - 1), END
    with Session(engine) as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        first_day, last_day = session.execute(
            select(func.min(Ticket.business_date), func.max(Ticket.business_date))
        ).one()
        stored_days = session.scalar(select(func.count()).select_from(ReportDay)) or 0
        cells = session.execute(text("SELECT count(*) FROM report_cells")).scalar_one()
        service_b = session.scalars(select(Service.id).where(Service.code == "B")).one()
        clerk = session.scalars(select(User.id).where(User.username == "clerk07")).one()
        busiest = session.execute(
            select(Ticket.business_date, func.count())
            .group_by(Ticket.business_date)
            .order_by(func.count().desc())
        ).first()
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("daily summary, one day (the API's)", lambda: report(session, clock, END, END)),
            ("week", lambda: report(session, clock, END - timedelta(days=6), END)),
            ("month (30 days)", lambda: report(session, clock, END - timedelta(days=29), END)),
            (f"year ({args.days} days)", lambda: report(session, clock, year_first, year_last)),
            (
                "year, service B",
                lambda: report(session, clock, year_first, year_last, ReportFilter(service_id=service_b)),
            ),
            (
                "year, counter 7",
                lambda: report(session, clock, year_first, year_last, ReportFilter(counter_id=7)),
            ),
            (
                "year, clerk07",
                lambda: report(session, clock, year_first, year_last, ReportFilter(staff_id=clerk)),
            ),
            (
                "year, as CSV rows",
                lambda: figure_rows(report(session, clock, year_first, year_last)),
            ),
            (
                "staffing plan (Mondays, last 8 weeks)",
                lambda: staffing_plan(session, clock, weekday=0, weeks=8),
            ),
            ("live supervisor view", lambda: hall_overview(session, clock)),
        ]
        rows = []
        for name, fn in cases:
            best, worst, answer = timed(fn, args.repeat)
            session.rollback()
            issued = answer["totals"]["issued"] if isinstance(answer, dict) and "totals" in answer else ""
            rows.append((name, best, worst, issued))
            print(f"{name:<40} best {best:6.3f} s  worst {worst:6.3f} s  {issued}", flush=True)
        final_days = session.scalar(select(func.count()).select_from(ReportDay).where(ReportDay.final)) or 0
        months = session.scalar(select(func.count()).select_from(ReportMonth)) or 0
    for name, best, worst in http_timings(year_first, year_last, args.repeat):
        rows.append((name, best, worst, ""))
        print(f"{name:<40} best {best:6.3f} s  worst {worst:6.3f} s", flush=True)
    load = " / ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    lines = [
        "# Reports benchmark",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; load average {load}  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
        f"History: {tickets:,} tickets, business days {first_day} .. {last_day} "
        f"(busiest day {busiest[1] if busiest else 0:,} tickets); {stored_days} days stored as "
        f"{cells:,} report cells ({final_days} days final, the others' ratings read live; {months} months "
        "merged); the day after the history computed from the tickets  ",
        f"Command: `bench/reports_bench.py` (best and worst of {args.repeat} runs each)",
        "",
        "| report | best s | worst s | tickets covered |",
        "| --- | --: | --: | --: |",
        *(
            f"| {name} | {best:.3f} | {worst:.3f} | {issued if issued == '' else f'{issued:,}'} |"
            for name, best, worst, issued in rows
        ),
        "",
    ]
    (RESULTS / "reports.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
