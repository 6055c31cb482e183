"""Request-side helpers shared by every room: the hall clock and the visitor's language."""

from __future__ import annotations

from typing import cast

from flask import current_app, request

from queue_engine.core.clock import Clock
from queue_engine.core.numbers import whole_number


def clock() -> Clock:
    """The hall clock (a FakeClock in tests that move time)."""
    return cast(Clock, current_app.config["QMS_CLOCK"])


def languages() -> list[str]:
    """The hall's languages, first one the default."""
    return list(current_app.config["QMS_LANGUAGES"])


def ranking_min_ratings() -> int:
    """How many ratings a clerk or counter needs to be ranked: ?min_ratings=, else the setting."""
    wanted = whole_number(request.args.get("min_ratings", ""), limit=100_000)
    if wanted:
        return wanted
    return int(current_app.config.get("QMS_RANKING_MIN_RATINGS", 10))


def request_language(explicit: str | None = None) -> str:
    """The language asked for (``?lang=``), else the browser's best match, else the default."""
    supported = languages()
    wanted = explicit or request.args.get("lang")
    if wanted in supported:
        return wanted
    best = request.accept_languages.best_match(supported)
    return best or supported[0]
