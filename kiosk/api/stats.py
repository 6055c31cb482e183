"""Statistics for supervisors."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from queue_engine.reports import daily_summary

from ..auth import MANAGER_ROLES, roles_required
from ..extensions import db
from ..hall import clock, ranking_min_ratings
from . import bp
from .validation import query_date


@bp.get("/stats/daily")
@roles_required(*MANAGER_ROLES)
def daily() -> Any:
    """The daily summary (``?date=YYYY-MM-DD``, default today in the hall's timezone)."""
    day = query_date("date", clock().today())
    return jsonify(daily_summary(db.session, clock(), day, min_ratings=ranking_min_ratings()))
