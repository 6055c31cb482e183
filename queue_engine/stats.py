"""The daily summary (GET /api/v1/stats/daily): one business day's report."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from . import reports
from .clock import Clock


def summarise(values: Iterable[float]) -> dict[str, Any]:
    """Count, mean, median and 90th percentile (nearest rank) of durations in seconds."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "mean_s": None, "median_s": None, "p90_s": None}

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {
        "count": len(ordered),
        "mean_s": round(sum(ordered) / len(ordered), 1),
        "median_s": round(median, 1),
        "p90_s": round(rank(0.9), 1),
    }


def daily_summary(session: Session, clock: Clock, day: date) -> dict[str, Any]:
    """Volumes, times and satisfaction for one business day, per service, hour and clerk.

    The day's report (``queue_engine.reports``): the fields this summary always had (date,
    totals, services, hours, staff) plus walk times, the share over target, complaints and
    counters; durations in whole seconds.
    """
    return reports.daily_summary(session, clock, day)
