"""The Flask app: HTTP, HTML, Socket.IO, auth and i18n around the queue engine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from kiosk.extensions import csrf, db, limiter, login_manager, migrate, socketio
from queue_engine.core.clock import Clock
from queue_engine.core.db import configure_engine

ROOT = Path(__file__).resolve().parent.parent
# The migration scripts ship inside the package, so that an installed app finds them.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, overridden by ``test_config`` when given."""
    instance = Path(os.environ.get("QMS_INSTANCE_PATH") or ROOT / "instance").resolve()
    app = Flask(__name__, instance_path=str(instance))
    from kiosk.config import from_environment

    app.config.from_mapping(from_environment(instance, ROOT))
    if test_config:
        app.config.from_mapping(test_config)
    app.config.setdefault("QMS_CLOCK", Clock(ZoneInfo(app.config["QMS_TIMEZONE"])))
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("QMS_REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    if proxies := app.config.get("QMS_PROXY_COUNT"):
        # Behind nginx: the visitor's address (for the ticket limit) and scheme come from it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    # `flask db ...`; render_as_batch: SQLite alters a table by copying it (see migrations/env.py).
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config.get("QMS_REDIS_URL"),
        channel=app.config.get("QMS_REDIS_CHANNEL", "qms"),
        # Unset (None): only the page's own origin, engine.io's default, which the stubs leave out.
        cors_allowed_origins=app.config.get("QMS_CORS_ORIGINS"),  # type: ignore[arg-type]
    )

    from kiosk import api, auth, cli, errors, filters, htmx, i18n, pages, realtime, runtime
    from kiosk.rooms import (
        admin,
        booking,
        counter,
        display,
        kiosk,
        quality,
        records,
        staff_bookings,
        supervisor,
        ticket,
    )

    i18n.init_app(app)
    filters.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    htmx.init_app(app)  # Vary: HX-Request on every answer
    rooms = (
        kiosk.bp,
        ticket.bp,
        booking.bp,
        display.bp,
        counter.bp,
        records.bp,
        quality.bp,
        admin.bp,
        supervisor.bp,
        staff_bookings.bp,
    )
    for blueprint in (auth.bp, api.bp, pages.bp, *rooms):
        app.register_blueprint(blueprint)
    cli.init_app(app)
    realtime.init_app(app)
    runtime.init_app(app)  # the hall's timezone and languages, and the day closer
    return app
