"""Pages and the command line alike: the same engine operations, validated and audited by the engine."""

from __future__ import annotations

from sqlalchemy import select

from kiosk.extensions import db
from queue_engine import VisitRecord, call_next, finish_visit, issue_ticket
from queue_engine.core.models import AuditEntry, Complaint, Counter, KioskDevice

from .staff_login import log_in


def _rows(app, model):
    with app.app_context():
        return list(db.session.scalars(select(model).order_by(model.id)))


def test_registering_a_kiosk_from_the_command_line_is_audited_and_its_link_works(app):
    result = app.test_cli_runner().invoke(args=["register-kiosk", "  entrance hall  "])

    assert result.exit_code == 0, result.output
    (device,) = _rows(app, KioskDevice)
    assert device.name == "entrance hall"
    (row,) = _rows(app, AuditEntry)
    assert (row.action, row.target, row.user_id) == ("register_kiosk", f"kiosk:{device.id}", None)
    link = result.output.strip().splitlines()[-1]
    assert app.test_client().get(link).status_code == 200


def test_a_too_long_kiosk_name_is_refused_not_cut(app):
    result = app.test_cli_runner().invoke(args=["register-kiosk", "k" * 65])

    assert result.exit_code != 0
    assert "1-64 characters" in result.output
    assert _rows(app, KioskDevice) == [] and _rows(app, AuditEntry) == []


def test_the_admin_page_and_the_command_line_refuse_the_same_name_alike(app):
    admin = app.test_client()
    csrf = log_in(admin, "admin")
    page = admin.post(
        "/admin/kiosks", data={"name": "k" * 65}, headers={"X-CSRFToken": csrf, "HX-Request": "true"}
    )
    cli = app.test_cli_runner().invoke(args=["register-kiosk", "k" * 65])

    assert page.status_code == 422 and "1-64" in page.get_data(as_text=True)
    assert cli.exit_code != 0 and "1-64" in cli.output
    assert _rows(app, KioskDevice) == []


def _complaint(app) -> int:
    """A complaint raised at a finished visit of service C (the demo's complaint service)."""
    with app.app_context():
        clock = app.config["QMS_CLOCK"]
        ticket = issue_ticket(db.session, clock, "C")
        counter = next(c for c in db.session.scalars(select(Counter)) if "C" in {s.code for s in c.services})
        call_next(db.session, clock, counter.id)
        record = VisitRecord(outcome="resolved", complaint_department="督查科")
        finish_visit(db.session, clock, ticket.token, record)
        db.session.commit()
        return db.session.scalars(select(Complaint.id)).one()


def test_a_complaint_moved_on_from_the_page_is_audited_once(app):
    complaint_id = _complaint(app)
    supervisor = app.test_client()
    csrf = log_in(supervisor, "supervisor")

    answer = supervisor.post(
        f"/complaints/{complaint_id}", data={"status": "investigating"}, headers={"X-CSRFToken": csrf}
    )

    assert answer.status_code == 302
    rows = [r for r in _rows(app, AuditEntry) if r.action == "update_complaint"]
    assert [(r.target, r.before["status"], r.after["status"]) for r in rows] == [
        (f"complaint:{complaint_id}", "open", "investigating")
    ]


def test_a_refused_complaint_move_shows_why_and_audits_nothing(app):
    complaint_id = _complaint(app)
    supervisor = app.test_client()
    csrf = log_in(supervisor, "supervisor")

    answer = supervisor.post(
        f"/complaints/{complaint_id}",
        data={"status": "closed"},
        headers={"X-CSRFToken": csrf},
        follow_redirects=True,
    )

    assert "cannot go from open to closed" in answer.get_data(as_text=True)
    assert [r for r in _rows(app, AuditEntry) if r.action == "update_complaint"] == []
    with app.app_context():
        assert db.session.get(Complaint, complaint_id).status == "open"
