"""Template filters shared by the staff pages."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from kiosk.context import clock


def localtime(instant: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant in the hall's timezone, as text."""
    return clock().local(instant).strftime(fmt) if instant else ""


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(localtime, "localtime")
