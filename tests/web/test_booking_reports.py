"""Reports count bookings (issue 14): bookings by what became of them, the no-show rate, the
punctuality, and the waits of booked visitors beside walk-ins, in /stats/daily and the page."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from kiosk.extensions import db
from queue_engine.booking import mark_missed

from .staff_login import log_in

# The web clock stands at Monday 5 January 2026, 09:00 in Shanghai.
NINE_FIFTEEN = "2026-01-05T09:15:00+08:00"
TEN = "2026-01-05T10:00:00+08:00"


def _book(client, start, phone):
    answer = client.post(
        "/api/v1/appointments", json={"service": "A", "start": start, "name": "张三", "phone": phone}
    )
    assert answer.status_code == 201
    return answer.get_json()


def _a_day_with_bookings(app, client, clock, take_ticket, call_next, auth):
    """A walk-in at 09:00; one booking checked in early, one missed, one cancelled; both called at 09:20."""
    take_ticket("A")
    early = _book(client, NINE_FIFTEEN, "13800000001")
    _book(client, NINE_FIFTEEN, "13800000002")
    cancelled = _book(client, TEN, "13800000003")
    client.post(f"/api/v1/appointments/{cancelled['token']}/cancel", json={})
    checked = client.post(
        "/api/v1/appointments/check-in", json={"code": early["code"]}, headers=auth("clerk1")
    )
    assert checked.status_code == 201
    clock.advance(minutes=20)
    assert call_next(1).get_json()["ticket"]["number"] == "A001"  # waited 20 minutes
    assert call_next(2).get_json()["ticket"]["number"] == "YA001"  # queued from 09:15: waited 5 minutes
    clock.advance(minutes=20)  # 09:40: the second 09:15 booking's window (to 09:30) is over
    with app.app_context():
        assert mark_missed(db.session, clock) == 1
        db.session.commit()


def test_the_daily_stats_count_bookings_and_set_booked_waits_beside_walk_ins(app, client, clock, take_ticket,
                                                                            call_next, auth):  # fmt: skip
    _a_day_with_bookings(app, client, clock, take_ticket, call_next, auth)

    daily = client.get("/api/v1/stats/daily?date=2026-01-05", headers=auth("supervisor"))

    assert daily.status_code == 200
    figures = daily.get_json()["bookings"]
    assert (figures["booked"], figures["checked_in"], figures["missed"], figures["cancelled"]) == (3, 1, 1, 1)
    assert figures["waiting"] == 0
    assert figures["no_show_rate"] == 0.5 and figures["punctual"] == 1 and figures["punctuality_rate"] == 1.0
    assert figures["wait_booked"]["count"] == 1 and figures["wait_booked"]["mean_s"] == 300
    assert figures["wait_walk_in"]["count"] == 1 and figures["wait_walk_in"]["mean_s"] == 1200
    assert daily.get_json()["totals"]["issued"] == 2  # the fields it had are all still there


def test_the_reports_page_and_its_export_show_the_booking_figures(
    app, client, clock, take_ticket, call_next, auth
):
    _a_day_with_bookings(app, client, clock, take_ticket, call_next, auth)
    supervisor = app.test_client()
    log_in(supervisor, "supervisor")

    page = supervisor.get("/supervisor/reports?from=2026-01-05&to=2026-01-05").get_data(as_text=True)

    assert "Bookings · 预约" in page and "预约与现场取号的等候" in page
    assert 'data-figure="bookings||no_show_rate" data-value="0.5">50.0%<' in page
    assert 'data-figure="bookings||wait_booked.mean_s" data-value="300.0">5:00<' in page
    assert 'data-figure="bookings||wait_walk_in.mean_s" data-value="1200.0">20:00<' in page
    csv = supervisor.get("/supervisor/reports.csv?from=2026-01-05&to=2026-01-05").get_data(as_text=True)
    assert "bookings,,missed,1" in csv and "bookings,,wait_booked.mean_s,300.0" in csv


def test_the_handover_workbook_has_a_bookings_sheet_in_minutes(
    app, client, clock, take_ticket, call_next, auth
):
    _a_day_with_bookings(app, client, clock, take_ticket, call_next, auth)
    boss = app.test_client()
    log_in(boss, "supervisor")

    book = load_workbook(io.BytesIO(boss.get("/supervisor/reports/handover.xlsx?from=2026-01-05").data))

    assert book.sheetnames[-1] == "预约"
    rows = {row[0]: row[1:] for row in book["预约"].iter_rows(values_only=True) if row and row[0]}
    assert rows["预约数"][0] == 3 and rows["爽约"][0] == 1 and rows["爽约率"][0] == 0.5
    assert rows["预约人等候"][:2] == (1, 5.0) and rows["现场取号等候"][:2] == (1, 20.0)
    assert rows["制表人："][1] == "审核人："
