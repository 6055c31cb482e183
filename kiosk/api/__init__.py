"""The JSON API under /api/v1 (DESIGN §7)."""

from typing import Any

from flask import Blueprint

from queue_engine.core.errors import UnknownBooking, UnknownTicket

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.url_value_preprocessor
def _refuse_impossible_token(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # No ticket token holds NUL, and PostgreSQL fails on NUL in a query rather than finding none.
    if values and "\x00" in str(values.get("token", "")):
        if (endpoint or "").startswith("api.") and "appointment" in (endpoint or ""):
            raise UnknownBooking("No booking has this link.")
        raise UnknownTicket("No ticket has this token.")


from kiosk.api import (  # noqa: E402,F401
    appointments,
    counters,
    devices,
    openapi,
    public,
    ratings,
    sms,
    staff_tickets,
    stats,
    tablets,
    webhooks,
)
