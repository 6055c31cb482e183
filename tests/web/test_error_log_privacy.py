"""Personal data stays out of the error log: a database failure while a clerk records a visit
logs the statement without the visitor's name, contact or description (finding 5)."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from kiosk.extensions import db

PERSONAL = {"customer_name": "欧阳娜娜", "contact": "13912345678", "description": "低保资格复核材料"}

TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER visits_fail BEFORE INSERT ON visits BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION visits_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk trouble'; END $$"
        " LANGUAGE plpgsql",
        "CREATE TRIGGER visits_fail BEFORE INSERT ON visits FOR EACH ROW EXECUTE FUNCTION visits_fail()",
    ],
}


@pytest.fixture
def app(database_url, app_factory):
    """The demo hall on SQLite and on PostgreSQL."""
    return app_factory(database_url)


def test_a_failed_visit_record_logs_no_personal_data(app, client, auth, take_ticket, caplog):
    with app.app_context():
        for statement in TRIGGERS[db.engine.dialect.name]:
            db.session.execute(text(statement))
        db.session.commit()
    take_ticket("A")
    ticket = client.post("/api/v1/counters/1/call-next", headers=auth("clerk1")).get_json()["ticket"]

    # A plain client: the contract client refuses the undocumented 500 this failure must give.
    plain = FlaskClient(app, app.response_class)
    with caplog.at_level(logging.DEBUG):
        answer = plain.post(
            f"/api/v1/tickets/{ticket['token']}/finish",
            headers=auth("clerk1"),
            json={"outcome": "resolved", **PERSONAL},
        )

    assert answer.status_code == 500
    assert answer.get_json()["error"]["code"] == "internal_error"
    logged = caplog.text
    assert "disk trouble" in logged, "the failure itself is logged"
    for value in PERSONAL.values():
        assert value not in logged


def test_the_clerks_form_keeps_what_was_typed_when_saving_fails(app, client, take_ticket, caplog):
    from sqlalchemy import select

    from queue_engine.core.models import Ticket, Visit
    from tests.web.staff_login import log_in

    with app.app_context():
        for statement in TRIGGERS[db.engine.dialect.name]:
            db.session.execute(text(statement))
        db.session.commit()
    take_ticket("A")
    csrf = log_in(client, "clerk1")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    client.post("/counter/1/open", headers=headers)
    client.post("/counter/1/act/call-next", headers=headers)
    with app.app_context():
        token = db.session.scalars(select(Ticket.token)).one()
    form = {"token": token, "outcome": "resolved", "notes": "", "department": "", "due_date": "", **PERSONAL}

    with caplog.at_level(logging.DEBUG):
        answer = client.post("/counter/1/finish", data=form, headers=headers)

    assert answer.status_code == 503
    html = answer.get_data(as_text=True)
    assert "could not be saved" in html and "办理记录未能保存" in html
    assert 'value="欧阳娜娜"' in html and 'value="13912345678"' in html and "低保资格复核材料" in html
    for value in PERSONAL.values():
        assert value not in caplog.text
    with app.app_context():
        assert db.session.scalars(select(Visit)).all() == []
