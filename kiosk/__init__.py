"""The Flask app: HTTP, HTML, Socket.IO, auth and i18n around the queue engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from queue_engine.clock import Clock
from queue_engine.db import configure_engine

from .extensions import csrf, db, limiter, login_manager, socketio


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, overridden by ``test_config`` when given."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    from .config import from_environment

    app.config.from_mapping(from_environment(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)
    app.config.setdefault("QMS_CLOCK", Clock(ZoneInfo(app.config["QMS_TIMEZONE"])))
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("QMS_REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config.get("QMS_REDIS_URL"),
        cors_allowed_origins=app.config.get("QMS_CORS_ORIGINS"),
    )

    from . import api, auth, cli, errors, filters, i18n, pages, realtime
    from .rooms import counter, display, kiosk, quality, records, ticket

    i18n.init_app(app)
    filters.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    rooms = (kiosk.bp, ticket.bp, display.bp, counter.bp, records.bp, quality.bp)
    for blueprint in (auth.bp, api.bp, pages.bp, *rooms):
        app.register_blueprint(blueprint)
    cli.init_app(app)
    realtime.init_app(app)
    return app
