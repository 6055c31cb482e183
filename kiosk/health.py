"""Liveness and readiness (DESIGN §7): ``/healthz`` touches nothing, ``/readyz`` asks the database."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from kiosk.extensions import csrf, db
from queue_engine.core.db import reading

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """200 at once, with no database: the process answers (the cheapest route)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Any:
    """200 when the database answers, 503 otherwise (for nginx and orchestrators)."""
    try:
        with reading(db.engine) as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return jsonify({"status": "unavailable"}), 503
    return jsonify({"status": "ok"})


csrf.exempt(bp)
