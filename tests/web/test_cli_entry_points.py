"""The command line is an entry point like the pages: the same engine operations, validated and audited."""

from __future__ import annotations

from sqlalchemy import select

from kiosk.extensions import db
from queue_engine.core.models import AuditEntry, KioskDevice

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
