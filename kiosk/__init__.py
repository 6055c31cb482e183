"""The Flask app: HTTP, HTML, Socket.IO, auth and i18n around the queue engine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from kiosk.extensions import csrf, db, limiter, login_manager, migrate, socketio
from queue_engine.core.clock import Clock
from queue_engine.core.db import ENGINE_OPTIONS, configure_engine

ROOT = Path(__file__).resolve().parent.parent
# The migration scripts ship inside the package, so that an installed app finds them.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, overridden by ``test_config`` when given."""
    instance = Path(os.environ.get("QMS_INSTANCE_PATH") or ROOT / "instance").resolve()
    app = Flask(__name__, instance_path=str(instance))
    from kiosk import security

    security.bound_ids(app)  # before any route: ids beyond the columns' range are 404s
    _configure(app, instance, test_config)
    _extensions(app)
    _rooms(app)
    return app


def _configure(app: Flask, instance: Path, test_config: dict[str, Any] | None) -> None:
    """The settings: the environment's (kiosk.config), a test's on top, and what follows from them."""
    from kiosk.config import from_environment

    app.config.from_mapping(from_environment(instance, ROOT))
    if test_config:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **ENGINE_OPTIONS,
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    app.config.setdefault("QMS_CLOCK", Clock(ZoneInfo(app.config["QMS_TIMEZONE"])))
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("QMS_REDIS_URL") or "memory://"
    if app.config.get("QMS_REDIS_URL"):
        from kiosk.redis_queue import REDIS_TIMEOUT_S

        # A frozen Redis costs a request at most this long once; then the limiter counts in memory.
        timeouts = {"socket_timeout": REDIS_TIMEOUT_S, "socket_connect_timeout": REDIS_TIMEOUT_S}
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", timeouts)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Flask-Limiter would otherwise take an earlier app's choice (its one object keeps it).
    app.config.setdefault("RATELIMIT_ENABLED", True)


def _extensions(app: Flask) -> None:
    """The database, migrations, log-in, CSRF, the rate limiter and Socket.IO (Redis when set)."""
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    # `flask db ...`; render_as_batch: SQLite alters a table by copying it (see migrations/env.py).
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # Flask-Limiter's one object outlives an app (tests build many): a new app's storage starts
    # out trusted, not marked down by an earlier app's outage.
    limiter._storage_dead = False
    from kiosk.redis_queue import client_manager
    from kiosk.serving import socketio_mode

    redis_url, channel = app.config.get("QMS_REDIS_URL"), app.config.get("QMS_REDIS_CHANNEL", "qms")
    socketio.init_app(
        app,
        async_mode=socketio_mode(app),
        message_queue=redis_url,
        channel=channel,
        **client_manager(redis_url, channel),
        # Unset (None): only the page's own origin, engine.io's default, which the stubs leave out.
        cors_allowed_origins=app.config.get("QMS_CORS_ORIGINS"),  # type: ignore[arg-type]
    )
    if proxies := app.config.get("QMS_PROXY_COUNT"):
        # Behind nginx: the visitor's address (for the ticket and socket limits) and scheme come
        # from it; wrapped around Socket.IO's middleware too, so that sockets see them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]


def _rooms(app: Flask) -> None:
    """The request hooks, every blueprint, the CLI, realtime and the background work."""
    from kiosk import (
        actions,
        api,
        auth,
        cli,
        errors,
        filters,
        health,
        htmx,
        i18n,
        pages,
        realtime,
        runtime,
        security,
    )
    from kiosk.rooms import (
        admin,
        booking,
        counter,
        display,
        kiosk,
        quality,
        records,
        staff_bookings,
        status,
        supervisor,
        supervisor_personal_data,
        tablet,
        ticket,
    )

    actions.init_app(app)  # GET requests only read (first of the before-request hooks)
    i18n.init_app(app)
    filters.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    htmx.init_app(app)  # Vary: HX-Request on every answer
    security.init_app(app)  # CSP, nosniff, Referrer-Policy, no-store on token pages, HSTS over TLS
    visitors = (kiosk.bp, ticket.bp, booking.bp, status.bp, display.bp, tablet.bp)
    staff: tuple[Blueprint, ...] = (counter.bp, records.bp, quality.bp, admin.bp, supervisor.bp)
    staff += (staff_bookings.bp, supervisor_personal_data.bp)
    for blueprint in (health.bp, auth.bp, api.bp, pages.bp, *visitors, *staff):
        app.register_blueprint(blueprint)
    cli.init_app(app)
    realtime.init_app(app)
    runtime.init_app(app)  # the hall's timezone and languages, and the day closer
