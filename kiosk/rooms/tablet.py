"""A counter's rating tablet (评价器): a device of its own, reached at its address with its token.

It never depends on a clerk's login: the page, its Socket.IO room and its ratings are judged by
the device token an admin registered (``register-tablet`` or the admin's kiosks page).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for

from kiosk.auth import token_digest
from kiosk.context import clock
from kiosk.extensions import db_session
from queue_engine.core.errors import QueueError
from queue_engine.core.lookups import tablet_by_digest
from queue_engine.quality.ratings import MAX_COMMENT
from queue_engine.queue.snapshots import awaiting_rating

bp = Blueprint("tablet", __name__, url_prefix="/rate")


@bp.get("/<device>")
def rating_screen(device: str) -> Any:
    """The visitor-facing rating screen of the tablet's counter, live."""
    try:
        tablet = tablet_by_digest(db_session(), token_digest(device))
    except QueueError:
        return render_template(
            "error.html",
            status=404,
            code="unknown_tablet",
            message="This rating tablet is not registered (or was revoked); ask an administrator. · "
            "该评价器未登记或已被撤销，请联系管理员。",
        ), 404
    return render_template(
        "counter/rate.html",
        counter=tablet.counter,
        device=device,
        device_name=tablet.name,
        post=url_for("api.tablet_rating", device=device),
        pending=awaiting_rating(db_session(), clock(), tablet.counter_id),
        max_comment=MAX_COMMENT,
    )
