"""Liveness and readiness answers (DESIGN §7)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from kiosk.extensions import db


def test_healthz_answers_without_touching_the_database(app: Flask) -> None:
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}
    assert statements == []


def test_readyz_answers_when_the_database_does(app: Flask) -> None:
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}
