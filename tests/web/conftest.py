"""Web fixtures: the Flask app on a real database, its test clients, logins and tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from kiosk import create_app
from kiosk.auth import issue_token
from kiosk.extensions import db
from kiosk.seed import seed_demo
from queue_engine import FakeClock
from queue_engine.models import User

DEMO_PASSWORD = "demo-pass-123"


@pytest.fixture
def clock() -> FakeClock:
    """The hall clock at Monday 5 January 2026, 09:00 Shanghai."""
    return FakeClock(tz=ZoneInfo("Asia/Shanghai"), current=datetime(2026, 1, 5, 1, 0, tzinfo=UTC))


@pytest.fixture
def app_factory(tmp_path: Any, clock: FakeClock) -> Callable[..., Flask]:
    """Builds an app on a fresh SQLite file (or a given URL) with the demo hall seeded."""

    def build(database_url: str | None = None, **config: Any) -> Flask:
        settings = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path / 'web.sqlite3'}",
            "QMS_CLOCK": clock,
            "QMS_TICKET_RATE_LIMIT": "0",
            **config,
        }
        application = create_app(settings)
        with application.app_context():
            db.create_all()
            seed_demo(db.session, None, DEMO_PASSWORD)
            db.session.commit()
        return application

    return build


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    """The app on SQLite with the demo hall."""
    application = app_factory()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An HTTP test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def token_for(app: Flask) -> Callable[[str], dict[str, str]]:
    """Authorization headers with a fresh API token for a demo user."""

    def make(username: str) -> dict[str, str]:
        with app.app_context():
            user = db.session.scalars(select(User).where(User.username == username)).one()
            token = issue_token(user)
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def take_ticket(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """Takes a ticket through the public API and returns its JSON."""

    def take(service: str = "A", **extra: Any) -> dict[str, Any]:
        response = client.post("/api/v1/tickets", json={"service": service, **extra})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return take
