"""Socket.IO: rooms, snapshots on (re)connect, and the one place where changes are published.

Pages, the API and the command line commit through ``kiosk.actions``; the engine's noted
changes are then turned here into events carrying what each screen draws (primitive values
only), so that a call reaches every board and phone without an HTTP request per screen.

A process that serves no screens (the command line) publishes through the Redis message queue
when one is configured (a write-only emitter, ``command_line_publishing``).  Without Redis
the running server notices another process's changes itself: its change watcher looks at two
high-water marks (the newest event-log id and audit id) every ``QMS_CHANGE_WATCH_SECONDS``
(default 1.5) and publishes what moved that it did not publish itself (looking ``LOOKBACK`` ids
behind its mark, for a PostgreSQL transaction that commits a lower id after a higher one).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask, current_app
from flask_login import current_user
from flask_socketio import SocketIO, emit, join_room
from sqlalchemy import select

from kiosk.auth import token_digest
from kiosk.context import clock
from kiosk.extensions import db, db_session, socketio
from queue_engine.core.db import reading
from queue_engine.core.errors import QueueError, UnknownTicket
from queue_engine.core.events import SETTINGS, changes_since, high_water_marks
from queue_engine.core.lookups import tablet_by_digest, ticket_by_token
from queue_engine.core.models import Counter, Service, Ticket
from queue_engine.queue.estimates import service_loads
from queue_engine.queue.snapshots import (
    awaiting_rating,
    call_entry,
    display_snapshot,
    ticket_view,
    waiting_positions,
    window_screen,
)

CALL_TYPES = ("called", "recalled")
RATING_TYPES = ("finished", "counter_closed", "counter_open")
EMITTER = "qms_emitter"
WATCHER = "qms_change_watcher"
LOOKBACK = 500  # event ids behind the mark the watcher looks at again (late commits)


class Emitter(Protocol):
    """What publishing needs of a Socket.IO server: emit to a room."""

    def emit(self, event: str, data: Any, *, to: str) -> Any: ...


def emitter() -> Emitter | None:
    """Where this process's events go: its Socket.IO server, a Redis emitter, or nowhere (None)."""
    found: Emitter | None = current_app.extensions.get(EMITTER, socketio)
    return found


@contextmanager
def command_line_publishing(app: Flask) -> Iterator[None]:
    """Inside the block this process publishes as a command-line process that serves no screens.

    With ``QMS_REDIS_URL`` the events go to the servers through the Socket.IO message queue (a
    write-only emitter: it never listens); without it the running server's change watcher
    notices the change, so nothing is built here for nobody.
    """
    url = app.config.get("QMS_REDIS_URL")
    queue = SocketIO(message_queue=url, channel=app.config.get("QMS_REDIS_CHANNEL", "qms")) if url else None
    missing = object()
    previous = app.extensions.get(EMITTER, missing)
    app.extensions[EMITTER] = queue
    try:
        yield
    finally:
        if previous is missing:
            app.extensions.pop(EMITTER, None)
        else:
            app.extensions[EMITTER] = previous


def publish(changes: list[dict[str, Any]]) -> None:
    """Tell every screen concerned about committed changes."""
    out = emitter()
    if not changes or out is None:
        return
    _remember_published(changes)
    if any(change["type"] == SETTINGS for change in changes):
        _publish_settings_changed(out)
    changes = [change for change in changes if change["type"] != SETTINGS]
    if changes:
        _publish_queue_changes(out, changes)
    db.session.rollback()  # end the read transaction (SQLite holds its write lock until then)


def _publish_queue_changes(out: Emitter, changes: list[dict[str, Any]]) -> None:
    session = db_session()
    clk = clock()
    ticket_ids = {c["ticket_id"] for c in changes if c.get("ticket_id")}
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
    loads = service_loads(session, clk)
    for change in changes:
        ticket = tickets.get(change.get("ticket_id") or 0)
        if change["type"] in CALL_TYPES and ticket is not None and ticket.counter is not None:
            out.emit("display:call", call_entry(ticket), to="display")
        if change["type"] in RATING_TYPES and change.get("counter_id"):
            # The tablet asks about the visit just finished, and about nothing once the duty ends.
            prompt = awaiting_rating(session, clk, change["counter_id"])
            if prompt is not None:
                out.emit("rate:request", prompt, to=f"counter:{change['counter_id']}")
            else:
                out.emit("rate:idle", {}, to=f"counter:{change['counter_id']}")
    out.emit("display:snapshot", display_snapshot(session, clk, loads=loads), to="display")
    out.emit("services:changed", {}, to="kiosk")
    for ticket in tickets.values():
        out.emit("ticket:update", ticket_view(session, clk, ticket, loads=loads), to=f"ticket:{ticket.token}")
    services = {c["service_id"] for c in changes if c.get("service_id")}
    services |= {t.transferred_from_id for t in tickets.values() if t.transferred_from_id}
    for service_id in services:
        # One message per queue, not one per waiting phone: each phone finds its own number.
        code = session.get(Service, service_id).code  # type: ignore[union-attr]
        order = [
            {"number": p["number"], "ahead": p["ahead"], "estimated_wait_s": p["estimated_wait_s"]}
            for p in waiting_positions(session, clk, service_id, loads[service_id])
        ]
        out.emit("queue:order", {"service": code, "waiting": order}, to=f"service:{code}")
    counters = {c["counter_id"] for c in changes if c.get("counter_id")}
    signal = {"services": sorted(services), "counters": sorted(counters)}
    out.emit("queue:changed", signal, to="supervisor")
    for counter_id in _counters_serving(services) | counters:
        out.emit("queue:changed", signal, to=f"counter:{counter_id}")
    _publish_windows(out, counters)


def _publish_settings_changed(out: Emitter) -> None:
    """The hall's set-up changed: kiosks refetch their buttons, boards redraw, panels refresh."""
    session = db_session()
    out.emit("services:changed", {}, to="kiosk")
    out.emit("display:snapshot", display_snapshot(session, clock()), to="display")
    signal = {"services": [], "counters": [], "settings": True}
    out.emit("queue:changed", signal, to="supervisor")
    for counter_id in session.scalars(select(Counter.id)):
        out.emit("queue:changed", signal, to=f"counter:{counter_id}")
    _publish_windows(out, set(session.scalars(select(Counter.id).where(Counter.active.is_(True)))))


def _publish_windows(out: Emitter, counter_ids: set[int]) -> None:
    """The screens above the windows that changed (a counter's name, state, call or clerk)."""
    for counter in db.session.scalars(select(Counter).where(Counter.id.in_(counter_ids))):
        out.emit("window:update", window_screen(db_session(), counter), to=f"window:{counter.id}")


def _counters_serving(service_ids: set[int]) -> set[int]:
    if not service_ids:
        return set()
    return set(
        db.session.scalars(select(Counter.id).join(Counter.services).where(Service.id.in_(service_ids)))
    )


@dataclass
class ChangeWatcher:
    """The server's eye on changes other processes commit (embedded set-up, no Redis)."""

    interval: float
    floor: int = 0  # the newest event id when the watcher started: older ones are never replayed
    event_mark: int = 0
    audit_mark: int = 0
    published: set[int] = field(default_factory=set)  # event ids published here, within LOOKBACK
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: Any = None


def _remember_published(changes: Iterable[dict[str, Any]]) -> None:
    watcher: ChangeWatcher | None = current_app.extensions.get(WATCHER)
    if watcher is None:
        return
    with watcher.lock:
        watcher.published.update(c["event_id"] for c in changes if c.get("event_id"))


def watch_once(app: Flask) -> int:
    """One look of the change watcher: publish what others committed since the last look; how many."""
    watcher: ChangeWatcher = app.extensions[WATCHER]
    with app.app_context():
        with reading(db.engine) as connection:
            events, audits = high_water_marks(connection)
            if (events, audits) == (watcher.event_mark, watcher.audit_mark):
                return 0
            with watcher.lock:
                own = frozenset(watcher.published)
            # Look a little behind the mark: on PostgreSQL a transaction holding a lower id may
            # commit after a higher one was seen (SQLite commits in id order: one writer).
            since = max(watcher.floor, watcher.event_mark - LOOKBACK)
            changes = changes_since(connection, since, watcher.audit_mark, skip=own)
        changes = [c for c in changes if c.get("event_id", 0) <= events]
        watcher.event_mark, watcher.audit_mark = events, audits
        with watcher.lock:
            watcher.published = {i for i in watcher.published if i > events - LOOKBACK}
        if not changes:
            return 0
        if any(c["type"] == SETTINGS for c in changes):
            from kiosk import runtime

            runtime.sync(app)  # an imported timezone or languages apply at once
        try:
            publish(changes)
        finally:
            db.session.rollback()
        return len(changes)


def _watch_forever(app: Flask, watcher: ChangeWatcher) -> None:
    while not watcher.stop.wait(watcher.interval):
        try:
            watch_once(app)
        except Exception:
            app.logger.exception("Looking for other processes' changes failed; trying again")


def start_change_watcher(app: Flask) -> None:
    """Start the change watcher of a server without Redis (marks taken now: nothing old is replayed)."""
    interval = float(app.config.get("QMS_CHANGE_WATCH_SECONDS", 1.5))
    if WATCHER in app.extensions:
        return
    if app.config.get("QMS_REDIS_URL") or interval <= 0:
        app.extensions[WATCHER] = None  # the servers share events through Redis instead
        return
    watcher = ChangeWatcher(interval)
    with app.app_context(), reading(db.engine) as connection:
        watcher.event_mark, watcher.audit_mark = high_water_marks(connection)
    watcher.floor = watcher.event_mark
    app.extensions[WATCHER] = watcher
    watcher.thread = socketio.start_background_task(_watch_forever, app, watcher)


def stop_change_watcher(app: Flask, timeout: float = 5.0) -> None:
    """Stop an app's change watcher (tests)."""
    watcher: ChangeWatcher | None = app.extensions.get(WATCHER)
    if watcher is not None:
        watcher.stop.set()
        if watcher.thread is not None:
            watcher.thread.join(timeout)


def _join(data: Any) -> None:
    data = data if isinstance(data, dict) else {}
    room = data.get("room")
    session, clk = db_session(), clock()
    if room == "display":
        join_room("display")
        emit("display:snapshot", display_snapshot(session, clk))
    elif room == "kiosk":
        join_room("kiosk")
    elif room == "ticket" and isinstance(data.get("token"), str):
        try:
            if "\x00" in data["token"]:  # no token holds NUL; PostgreSQL would fail the query
                raise UnknownTicket()
            ticket = ticket_by_token(session, data["token"])
        except QueueError:
            emit("error", {"code": "unknown_ticket"})
            return
        join_room(f"ticket:{ticket.token}")
        join_room(f"service:{ticket.service.code}")
        emit("ticket:update", ticket_view(session, clk, ticket))
    elif room == "counter" and current_user.is_authenticated:
        counter = (
            session.get(Counter, data.get("counter_id")) if isinstance(data.get("counter_id"), int) else None
        )
        if counter is None or not current_user.may_use_counter(counter):
            emit("error", {"code": "forbidden"})
            return
        join_room(f"counter:{counter.id}")
        emit("queue:changed", {"services": [], "counters": [counter.id]})
        prompt = awaiting_rating(session, clk, counter.id)
        emit("rate:request" if prompt else "rate:idle", prompt or {})
    elif room == "window" and isinstance(data.get("counter_id"), int):
        counter = session.get(Counter, data["counter_id"])
        if counter is None or not counter.active:
            emit("error", {"code": "unknown_counter"})
            return
        join_room(f"window:{counter.id}")
        emit("window:update", window_screen(session, counter))
    elif room == "tablet" and isinstance(data.get("device"), str):
        try:
            tablet = tablet_by_digest(session, token_digest(data["device"]))
        except QueueError:
            emit("error", {"code": "unknown_tablet"})
            return
        join_room(f"counter:{tablet.counter_id}")
        prompt = awaiting_rating(session, clk, tablet.counter_id)
        emit("rate:request" if prompt else "rate:idle", prompt or {})
    elif (
        room == "supervisor"
        and current_user.is_authenticated
        and current_user.role in ("supervisor", "admin")
    ):
        join_room("supervisor")
        emit("queue:changed", {"services": [], "counters": []})
    else:
        emit("error", {"code": "forbidden", "room": room})
    session.rollback()


def init_app(app: Flask) -> None:
    """Register the Socket.IO handlers; a server's change watcher starts with its first request."""
    socketio.on_event("join", _join)

    def _start_watcher() -> None:
        if WATCHER not in app.extensions and app.config.get("QMS_CHANGE_WATCH", not app.testing):
            with _starting:
                start_change_watcher(app)

    app.before_request(_start_watcher)


_starting = threading.Lock()
