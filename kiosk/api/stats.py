"""Statistics for supervisors."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from kiosk.api import bp
from kiosk.api.models import DailyQuery, DailySummary
from kiosk.api.operations import api_route
from kiosk.auth import MANAGER_ROLES
from kiosk.context import clock, ranking_min_ratings
from kiosk.extensions import db_session
from queue_engine.core.dates import DateRange
from queue_engine.reporting.reports import daily_summary


@bp.get("/stats/daily")
@api_route(
    query=DailyQuery,
    roles=MANAGER_ROLES,
    answers={200: DailySummary},
    errors={422: "invalid_input: date is not YYYY-MM-DD"},
)
def daily(query: DailyQuery) -> Any:
    """The daily summary (``?date=YYYY-MM-DD``, default today in the hall's timezone).

    Durations are whole seconds; per service by the service a ticket was issued for.
    """
    day = DateRange.day(query.date, default=clock().today()).first
    return jsonify(daily_summary(db_session(), clock(), day, min_ratings=ranking_min_ratings()))
