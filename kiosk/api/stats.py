"""Statistics for supervisors."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from kiosk.api import bp
from kiosk.auth import MANAGER_ROLES, roles_required
from kiosk.context import clock, ranking_min_ratings
from kiosk.extensions import db
from queue_engine.core.dates import DateRange
from queue_engine.reporting.reports import daily_summary


@bp.get("/stats/daily")
@roles_required(*MANAGER_ROLES)
def daily() -> Any:
    """The daily summary (``?date=YYYY-MM-DD``, default today in the hall's timezone)."""
    day = DateRange.day(request.args.get("date"), default=clock().today()).first
    return jsonify(daily_summary(db.session, clock(), day, min_ratings=ranking_min_ratings()))
