"""Web fixtures: the Flask app on a real database, its test clients, logins and tokens."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from werkzeug.security import generate_password_hash

import kiosk.cli.seed
from kiosk import create_app, realtime
from kiosk.auth import issue_token
from kiosk.cli.seed import seed_demo
from kiosk.extensions import db
from queue_engine import FakeClock
from queue_engine.core.models import User
from tests.contract import ContractClient

DEMO_PASSWORD = "demo-pass-123"


def quick_hash(password: str) -> str:
    """A cheap password hash for seeded test users (still a salted hash, never plaintext)."""
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


_SEEDED: dict[str, Path] = {}  # the seeded SQLite file each new SQLite test database starts as


def _seeded_template(clock: FakeClock) -> Path:
    """A SQLite file with the tables and the demo hall, made once per test process by the app
    itself (so every model the app imports has its table)."""
    if "sqlite" not in _SEEDED:
        folder = Path(tempfile.mkdtemp(prefix="qms-seeded-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "seeded.sqlite3"
        dispose(_built(f"sqlite:///{template}", clock))  # closing the last connection checkpoints the WAL
        _SEEDED["sqlite"] = template
    return _SEEDED["sqlite"]


def _start_seeded(database_url: str, clock: FakeClock) -> bool:
    """Start a new SQLite database as a copy of the seeded one (the same rows create_all and
    seed_demo would write, for a file copy's cost); False for PostgreSQL or an existing file."""
    if not database_url.startswith("sqlite:///"):
        return False
    target = Path(database_url.removeprefix("sqlite:///"))
    if target.exists():
        return False
    template = _seeded_template(clock)
    shutil.copyfile(template, target)
    for suffix in ("-wal", "-shm"):
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", f"{target}{suffix}")
    return True


def build_app(database_url: str, clock: FakeClock, **config: Any) -> Flask:
    """An app on a database, with its tables created and the demo hall seeded."""
    return _built(database_url, clock, seeded=_start_seeded(database_url, clock), **config)


def _built(database_url: str, clock: FakeClock, *, seeded: bool = False, **config: Any) -> Flask:
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "QMS_CLOCK": clock,
        "QMS_TICKET_RATE_LIMIT": "0",
        **config,
    }
    application = create_app(settings)
    # Every /api/v1 exchange of the web tests is held to the served OpenAPI document.
    application.test_client_class = ContractClient
    if seeded:
        return application
    with pytest.MonkeyPatch.context() as patch:
        # Six demo hashes per test need not be slow; the CLI's create-user keeps the real cost.
        patch.setattr(kiosk.cli.seed, "hash_password", quick_hash)
        with application.app_context():
            db.create_all()
            seed_demo(db.session, None, DEMO_PASSWORD)
            db.session.commit()
    return application


def dispose(application: Flask) -> None:
    """Stop an app's publisher and close its database connections."""
    realtime.stop_publisher(application)
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def app_factory(tmp_path: Any, clock: FakeClock) -> Iterator[Callable[..., Flask]]:
    """Builds an app on a fresh SQLite file (or a given URL) with the demo hall seeded."""
    built: list[Flask] = []

    def build(database_url: str | None = None, **config: Any) -> Flask:
        application = build_app(database_url or f"sqlite:///{tmp_path / 'web.sqlite3'}", clock, **config)
        built.append(application)
        return application

    yield build
    for application in built:
        dispose(application)


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    """The app on SQLite with the demo hall."""
    return app_factory()


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


@pytest.fixture
def auth(token_for: Callable[[str], dict[str, str]]) -> Callable[[str], dict[str, str]]:
    """Bearer headers per demo user, issued once per test (a new token replaces the old one)."""
    issued: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in issued:
            issued[username] = token_for(username)
        return issued[username]

    return headers


@pytest.fixture
def call_next(client: FlaskClient, auth: Callable[[str], dict[str, str]]) -> Callable[..., Any]:
    """Calls the next visitor at a counter as a demo clerk (clerkN at counter N by default)."""

    def call(counter_id: int = 1, user: str | None = None) -> Any:
        headers = auth(user or f"clerk{counter_id}")
        return client.post(f"/api/v1/counters/{counter_id}/call-next", headers=headers)

    return call
