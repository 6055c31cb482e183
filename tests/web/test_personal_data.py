"""PIPL on request: a supervisor finds one person's data (masked in the list), exports it
(unmasked, formula-safe, audited) and erases it (figures kept, audited)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from kiosk.extensions import db
from queue_engine.core.models import AuditEntry, Visit
from tests.web.staff_login import log_in

PHONE = "13912345678"


def served(client, auth, take_ticket, **record):
    """A visit finished by clerk1 at counter 1 with this record."""
    token = take_ticket("A")["token"]
    client.post("/api/v1/counters/1/call-next", headers=auth("clerk1"))
    body = {"outcome": "resolved", **record}
    answer = client.post(f"/api/v1/tickets/{token}/finish", headers=auth("clerk1"), json=body)
    assert answer.status_code == 200, answer.get_json()


def test_a_supervisor_finds_exports_and_erases_one_persons_data(app, client, auth, take_ticket):
    served(client, auth, take_ticket, customer_name="=HYPERLINK(1)", contact=PHONE, description="低保复核")
    served(client, auth, take_ticket, customer_name="李四", contact="13800000000", description="其他人")
    browser = app.test_client()
    csrf = log_in(browser, "supervisor")

    page = browser.get(f"/supervisor/personal-data?q={PHONE}").get_data(as_text=True)
    start = page.index('id="personal-data"')  # the query typed is echoed in the forms, not the rows
    listing = page[start : page.index("</table>", start)]
    assert "139****5678" in listing and PHONE not in listing and "李四" not in listing

    form = {"q": PHONE, "format": "csv", "csrf_token": csrf}
    exported = browser.post("/supervisor/personal-data/export", data=form)
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [(r["contact"], r["details"]) for r in rows] == [(PHONE, "低保复核")]
    assert not rows[0]["name"].startswith("=")  # formula-safe

    erased = browser.post("/supervisor/personal-data/erase", data={"q": PHONE, "csrf_token": csrf})
    assert erased.status_code == 302
    with app.app_context():
        visits = db.session.scalars(select(Visit).order_by(Visit.id)).all()
        assert [(v.customer_name, v.contact, v.description, v.outcome) for v in visits] == [
            ("", "", "", "resolved"),
            ("李四", "13800000000", "其他人", "resolved"),
        ]
        actions = [a.action for a in db.session.scalars(select(AuditEntry))]
        assert "personal_data.export" in actions and "personal_data.erase" in actions
        assert PHONE not in repr([a.after for a in db.session.scalars(select(AuditEntry))])


def test_clerks_cannot_open_the_personal_data_page(app):
    browser = app.test_client()
    log_in(browser, "clerk1")
    assert browser.get(f"/supervisor/personal-data?q={PHONE}").status_code in (302, 403)


def test_the_visit_records_list_masks_contact_numbers(app, client, auth, take_ticket):
    served(client, auth, take_ticket, customer_name="王五", contact=PHONE, description="材料")
    browser = app.test_client()
    log_in(browser, "supervisor")
    page = browser.get("/visits").get_data(as_text=True)
    assert "139****5678" in page and PHONE not in page
