"""The JSON API under /api/v1 (DESIGN §7)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import counters, openapi, public, staff_tickets, stats  # noqa: E402,F401
