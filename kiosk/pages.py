"""The landing page that points to each room of the system."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> Any:
    """Links to the kiosk, the board, the counter workspace and the staff pages."""
    return render_template("pages/home.html")
