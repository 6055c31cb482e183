"""The hall's settings applied to the running server: timezone, languages, and the day closer.

Timezone and languages: the environment (``QMS_TIMEZONE``, ``QMS_LANGUAGES``) gives the
default; the Hall row's ``timezone`` / ``languages``, once an admin sets them, override it, and
clearing them returns to the environment's.  The effective values live where the rest of the
app already reads them: ``app.config["QMS_TIMEZONE"]``, ``app.config["QMS_LANGUAGES"]`` and
the tz of ``app.config["QMS_CLOCK"]`` (changed in place, so that whoever holds the clock follows).
Each process reads the row on its first app context and again at most every
``SYNC_SECONDS``; the process where an admin saves applies the change at once.

The day closer: one background task per server process closes each business day after its
closing time (``queue_engine.queue.day``), marks the bookings whose check-in window ended
without a check-in as missed (``queue_engine.booking``) and erases personal data older than
``QMS_PERSONAL_DATA_DAYS`` (``queue_engine.hall.retention``).  Several processes may run it at once: closing
is idempotent and row-locked.  ``QMS_AUTO_CLOSE_DAY`` (environment or config; default on, off
under TESTING) turns it on or off, ``QMS_DAY_CLOSE_SECONDS`` (config, default 60) sets how often
it looks.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, appcontext_pushed, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kiosk.context import clock
from kiosk.extensions import db, db_session, socketio
from kiosk.push import start_push
from queue_engine.booking import mark_missed
from queue_engine.core.db import reading
from queue_engine.core.models import Hall
from queue_engine.hall.retention import erase_old_personal_data
from queue_engine.notify import channels_email as _email  # noqa: F401 (the e-mail channel)
from queue_engine.notify import channels_sms as _sms  # noqa: F401 (the SMS channel)
from queue_engine.notify import webhooks as _webhooks  # noqa: F401 (the outbox hook and the webhook channel)
from queue_engine.notify.scheduled import DEFAULT_REMINDER_LEAD_MIN, due_scheduled
from queue_engine.notify.worker import RetryPolicy, run_forever
from queue_engine.queue.day import close_day_if_due

SYNC_SECONDS = 5.0
EXTENSION = "qms_hall_runtime"


@dataclass
class HallRuntime:
    """One app's defaults from the environment and the state of its sync and day closer."""

    default_timezone: str
    default_languages: list[str]
    default_tz: ZoneInfo
    synced_at: float = float("-inf")
    closer: threading.Thread | None = None
    outbox_worker: threading.Thread | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def runtime(app: Flask) -> HallRuntime:
    """The hall runtime of an app."""
    found: HallRuntime = app.extensions[EXTENSION]
    return found


def init_app(app: Flask) -> None:
    """Remember the environment's defaults; sync on app contexts; start the closer on a request."""
    flag = os.environ.get("QMS_AUTO_CLOSE_DAY")
    if flag is not None:
        app.config.setdefault("QMS_AUTO_CLOSE_DAY", flag.strip().lower() not in ("0", "false", "off", "no"))
    app.extensions[EXTENSION] = HallRuntime(
        default_timezone=app.config["QMS_TIMEZONE"],
        default_languages=list(app.config["QMS_LANGUAGES"]),
        default_tz=app.config["QMS_CLOCK"].tz,
    )
    appcontext_pushed.connect(_on_app_context, app)
    app.before_request(_start_day_closer)


def apply(app: Flask, timezone: str | None, languages: list[str] | None) -> None:
    """Make a timezone and languages (None: the environment's) the app's effective ones."""
    state = runtime(app)
    tz = state.default_tz
    if timezone:
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            app.logger.warning("Hall timezone %r is unknown; keeping %s", timezone, state.default_timezone)
            timezone = None
    app.config["QMS_CLOCK"].tz = tz
    app.config["QMS_TIMEZONE"] = timezone or state.default_timezone
    valid = isinstance(languages, list) and languages and all(isinstance(lang, str) for lang in languages)
    app.config["QMS_LANGUAGES"] = list(languages) if valid and languages else list(state.default_languages)


def sync(app: Flask) -> bool:
    """Read the Hall row's timezone and languages and apply them; False if the row cannot be read."""
    try:
        with reading(db.engine) as connection:
            row = connection.execute(select(Hall.timezone, Hall.languages).order_by(Hall.id).limit(1)).first()
    except SQLAlchemyError:
        # No tables yet (before init-db), or a database without the new columns.
        return False
    apply(app, row.timezone if row else None, row.languages if row else None)
    runtime(app).synced_at = time.monotonic()
    return True


def _on_app_context(app: Flask, **_extra: Any) -> None:
    state = runtime(app)
    if time.monotonic() - state.synced_at < SYNC_SECONDS or not state.lock.acquire(blocking=False):
        return
    try:
        sync(app)
    finally:
        state.lock.release()


def close_days_now(app: Flask) -> tuple[date, int]:
    """Close every business day that is due (one pass of the day closer); publish what changed."""
    from kiosk.actions import commit

    with app.app_context():
        try:
            day, expired = close_day_if_due(db_session(), clock())
            missed = mark_missed(db_session(), clock())
            erase_old_personal_data(db_session(), clock(), int(app.config.get("QMS_PERSONAL_DATA_DAYS", 180)))
            commit()
        except Exception:
            db.session.rollback()
            raise
    if expired:
        app.logger.info("Business day %s closed: %d open ticket(s) expired", day, expired)
    if missed:
        app.logger.info("%d booking(s) not checked in within their window marked missed", missed)
    return day, expired


def _close_days_forever(app: Flask, state: HallRuntime) -> None:
    interval = float(app.config.get("QMS_DAY_CLOSE_SECONDS", 60))
    while not state.stop.is_set():
        try:
            close_days_now(app)
        except Exception:
            app.logger.exception("Closing the business day failed; trying again in %.0f s", interval)
        state.stop.wait(interval)


def _start_day_closer() -> None:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    state = runtime(app)
    start_push(app)  # the VAPID keys, before the worker may send a notification
    _start_outbox_worker(app, state)
    if state.closer is not None or not app.config.get("QMS_AUTO_CLOSE_DAY", not app.testing):
        return
    with state.lock:
        if state.closer is None:
            state.closer = socketio.start_background_task(_close_days_forever, app, state)


def _setting(app: Flask, name: str, default: float) -> float:
    return float(app.config.get(name, os.environ.get(name, default)))


def retry_policy(app: Flask) -> RetryPolicy:
    """The outbox's retry settings (config or environment ``QMS_WEBHOOK_*``; shorter in tests)."""
    return RetryPolicy(
        first_retry_s=_setting(app, "QMS_WEBHOOK_FIRST_RETRY_S", 10),
        factor=_setting(app, "QMS_WEBHOOK_BACKOFF_FACTOR", 2),
        give_up_s=_setting(app, "QMS_WEBHOOK_GIVE_UP_S", 24 * 3600),
        timeout_s=_setting(app, "QMS_WEBHOOK_TIMEOUT_S", 5),
    )


def reminder_lead_default(app: Flask) -> int:
    """Minutes before a booked slot its reminder goes when the hall set none (``QMS_REMINDER_LEAD_MIN``)."""
    return int(_setting(app, "QMS_REMINDER_LEAD_MIN", DEFAULT_REMINDER_LEAD_MIN))


def _start_outbox_worker(app: Flask, state: HallRuntime) -> None:
    # The outbox worker (queue_engine.notify.worker): one per server process, like the day closer.
    flag = os.environ.get("QMS_OUTBOX_WORKER")
    wanted = flag.strip().lower() not in ("0", "false", "off", "no") if flag is not None else not app.testing
    if state.outbox_worker is not None or not app.config.get("QMS_OUTBOX_WORKER", wanted):
        return
    from sqlalchemy.orm import Session

    # Taken here, in the request's app context: the worker thread has none, and db.engine needs one.
    engine = db.engine

    def make_session() -> Session:
        return Session(engine, expire_on_commit=False)

    def failed(error: BaseException) -> None:
        app.logger.warning("Outbox delivery failed (%s); trying again", error)

    with state.lock:
        if state.outbox_worker is None:
            state.outbox_worker = socketio.start_background_task(
                run_forever,
                make_session,
                lambda: app.config["QMS_CLOCK"].now(),
                state.stop,
                policy=retry_policy(app),
                interval_s=_setting(app, "QMS_OUTBOX_SECONDS", 1.0),
                on_error=failed,
                scheduled=lambda session: due_scheduled(
                    session, app.config["QMS_CLOCK"], default_lead_min=reminder_lead_default(app)
                ),
            )


def stop_day_closer(app: Flask, timeout: float = 5.0) -> None:
    """Stop the day closer of an app (tests)."""
    state = runtime(app)
    state.stop.set()
    for thread in (state.closer, state.outbox_worker):
        if thread is not None:
            thread.join(timeout)
