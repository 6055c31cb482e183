"""The hall display board: a TV read from 10 m, live over Socket.IO, announcing each call."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import force_locale, gettext
from sqlalchemy import select

from kiosk.context import clock, languages
from kiosk.extensions import db, db_session
from kiosk.i18n import HTML_LANG, LOCALES
from queue_engine.core.errors import QueueError
from queue_engine.core.lookups import counter_by_id
from queue_engine.core.models import Service
from queue_engine.hall.calendar import hall_settings
from queue_engine.queue.snapshots import board_filter, display_snapshot, window_screen

bp = Blueprint("display", __name__, url_prefix="/display")


def _labels(lang: str) -> dict[str, str]:
    with force_locale(LOCALES.get(lang, lang)):
        return {
            "now_serving": gettext("Now serving"),
            "number": gettext("Number"),
            "counter": gettext("Counter"),
            "counter_n": gettext("Counter {counter}"),
            "recent": gettext("Recent calls"),
            "waiting": gettext("Waiting"),
            "paused": gettext("Paused"),
            "closed": gettext("Closed"),
            "reconnecting": gettext("Reconnecting…"),
            "announce": gettext("Number {number}, please go to counter {counter}"),
            "sound": gettext("Touch to turn on the sound"),
            "next": gettext("Next: {numbers}"),
            "next_label": gettext("Get ready:"),
            "unknown": gettext("No such service on this board: {codes}"),
        }


@bp.get("")
def board() -> Any:
    """The board; ``?services=A,B`` or ``?counters=1,2`` shows one area of the hall."""
    services, counters = board_filter(request.args.get("services", ""), request.args.get("counters", ""))
    hall = hall_settings(db_session())
    langs = languages()
    known = set(db.session.scalars(select(Service.code).where(Service.active.is_(True))))
    return render_template(
        "display/board.html",
        snapshot=display_snapshot(db_session(), clock(), services=services, counters=counters),
        filters={"services": services, "counters": counters},
        labels={lang: _labels(lang) for lang in langs},
        speech_langs={lang: HTML_LANG.get(lang, lang) for lang in langs},
        board_langs=langs,
        hall_names=[hall.name.get(lang) for lang in langs if hall.name.get(lang)],
        unknown=[code for code in services if code not in known],
    )


@bp.get("/counter/<int:counter_id>")
def window(counter_id: int) -> Any:
    """The small screen above one window: its number, its name, 暂停服务 when paused, the clerk; live."""
    try:
        counter = counter_by_id(db_session(), counter_id)
    except QueueError:
        abort(404)
    return render_template("display/window.html", screen=window_screen(db_session(), counter))
