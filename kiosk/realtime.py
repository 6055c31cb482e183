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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask, current_app
from flask_socketio import SocketIO
from sqlalchemy import select

from kiosk import sockets
from kiosk.context import clock
from kiosk.extensions import db, db_session, socketio
from kiosk.publisher import PUBLISHER, Publisher, publisher
from kiosk.redis_queue import TimedRedisManager, client_manager
from queue_engine.core.db import read_only, reading
from queue_engine.core.events import SETTINGS, changes_since, high_water_marks
from queue_engine.core.models import Counter, Service, Ticket, counter_services
from queue_engine.queue.estimates import Forecast, ServiceLoad, forecast, service_loads
from queue_engine.queue.ordering import reaches
from queue_engine.queue.snapshots import (
    awaiting_rating,
    call_entry,
    calls_update,
    display_snapshot,
    ticket_view,
    waiting_position,
    waiting_today,
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
    channel = app.config.get("QMS_REDIS_CHANNEL", "qms")
    queue = (
        SocketIO(message_queue=url, channel=channel, **client_manager(url, channel, write_only=True))
        if url
        else None
    )
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
    """Tell every screen concerned about committed changes (after the commit; returns at once).

    The server hands them to its publisher, which builds and emits off the request path; a
    command-line process (a write-only Redis emitter) builds and emits them itself.
    """
    out = emitter()
    if not changes or out is None:
        return
    _remember_published(changes)
    if out is socketio:
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        publisher(app, _send, socketio.start_background_task).hand(changes)
        return
    try:
        emit_changes(out, changes, lambda room: True)  # it cannot know who listens elsewhere
    finally:
        db.session.rollback()  # end the read transaction


def flush(timeout: float = 10.0) -> bool:
    """Wait until this process has emitted every change published so far (False on timeout)."""
    found: Publisher | None = current_app.extensions.get(PUBLISHER)
    return True if found is None else found.flush(timeout)


def stop_publisher(app: Flask) -> None:
    """Send what is pending and stop the app's publisher thread (tests; a process ending)."""
    found: Publisher | None = app.extensions.pop(PUBLISHER, None)
    if found is not None:
        found.stop()


def listening() -> Callable[[str], bool]:
    """Whether a room may have a listener: someone joined here, or (with Redis) anywhere."""
    if current_app.config.get("QMS_REDIS_URL"):
        return lambda room: True  # other processes' sockets are not known here
    rooms = _rooms_here()
    return lambda room: bool(rooms.get(room))


def _rooms_here() -> dict[str, Any]:
    server = getattr(socketio, "server", None)  # Flask-SocketIO's python-socketio Server (untyped)
    return server.manager.rooms.get("/", {}) if server is not None else {}


def _may_follow(prefix: str) -> bool:
    """Whether any room of that kind may have a listener (with Redis: maybe, on another process)."""
    if current_app.config.get("QMS_REDIS_URL"):
        return True
    return any(isinstance(room, str) and room.startswith(prefix) for room in list(_rooms_here()))


def _send(changes: list[dict[str, Any]]) -> None:
    """The publisher's work for one coalesced batch: build for the rooms listened to, emit."""
    if not current_app.config.get("QMS_REDIS_URL") and not _rooms_here():
        return  # no screen is connected (and no other process could have one): nothing to build
    with read_only():  # the publisher only reads: it never waits for the writers' lock
        emit_changes(socketio, changes, listening())


def emit_changes(out: Emitter, changes: list[dict[str, Any]], listens: Callable[[str], bool]) -> None:
    """Build each listened room's messages once, release the database, then emit them."""
    messages: list[Message] = []
    try:
        if any(change["type"] == SETTINGS for change in changes):
            messages += _settings_messages(listens)
        queue_changes = [change for change in changes if change["type"] != SETTINGS]
        if queue_changes:
            messages += _queue_messages(queue_changes, listens)
    finally:
        db.session.rollback()  # no database connection is held while the messages go out
    snapshots = [i for i, message in enumerate(messages) if message[0] == "display:snapshot"]
    for i in reversed(snapshots[:-1]):  # one board snapshot per batch: the newest
        del messages[i]
    for event_name, payload, room in messages:
        out.emit(event_name, payload, to=room)


Message = tuple[str, Any, str]  # event, payload, room


def _queue_messages(changes: list[dict[str, Any]], listens: Callable[[str], bool]) -> list[Message]:
    session, clk = db_session(), clock()
    messages: list[Message] = []
    ticket_ids = {c["ticket_id"] for c in changes if c.get("ticket_id")}
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
    loaded: dict[int, ServiceLoad] = {}

    def loads() -> dict[int, ServiceLoad]:
        if not loaded:
            loaded.update(service_loads(session, clk))  # once per batch, only when a room needs it
        return loaded

    passed: dict[int, Forecast] | None = None

    def forecasts() -> dict[int, Forecast]:
        nonlocal passed
        if passed is None:  # the forward pass: once per batch, only when a phone listens
            passed = forecast(session, clk)
        return passed

    board = listens("display")
    for change in changes:
        ticket = tickets.get(change.get("ticket_id") or 0)
        if board and change["type"] in CALL_TYPES and ticket is not None and ticket.counter is not None:
            messages.append(("display:call", call_entry(ticket), "display"))
        counter_room = f"counter:{change.get('counter_id')}"
        if change["type"] in RATING_TYPES and change.get("counter_id") and listens(counter_room):
            # The tablet asks about the visit just finished, and about nothing once the duty ends.
            prompt = awaiting_rating(session, clk, change["counter_id"])
            if prompt is not None:
                messages.append(("rate:request", prompt, counter_room))
            else:
                messages.append(("rate:idle", {}, counter_room))
    if board:
        messages.append(("display:snapshot", display_snapshot(session, clk, loads=loads()), "display"))
    if listens("kiosk"):
        messages.append(("services:changed", {}, "kiosk"))
    for ticket in tickets.values():
        if listens(room := f"ticket:{ticket.token}"):
            messages.append(("ticket:update", ticket_view(session, clk, ticket, forecasts=forecasts()), room))
    services = {c["service_id"] for c in changes if c.get("service_id")}
    services |= {t.transferred_from_id for t in tickets.values() if t.transferred_from_id}
    # A call or a new ticket of one service moves the places in every service sharing its
    # counters (the forward pass counts them all): their waiting phones hear their new place.
    if services and _may_follow("ticket:"):
        told = {t.token for t in tickets.values()}
        messages += _position_messages(_sharing_counters(services), told, forecasts, listens)
    counters = {c["counter_id"] for c in changes if c.get("counter_id")}
    resynced = {c["service_id"] for c in changes if c["type"] == "resync" and c.get("service_id")}
    messages += _calls_messages(counters, resynced, listens)
    signal = {"services": sorted(services), "counters": sorted(counters)}
    if listens("supervisor"):
        messages.append(("queue:changed", signal, "supervisor"))
    for counter_id in sorted(_counters_serving(services) | counters):
        if listens(room := f"counter:{counter_id}"):
            messages.append(("queue:changed", signal, room))
    messages += _window_messages(counters, listens)
    return messages


def _position_messages(
    service_ids: set[int],
    told: set[str],
    forecasts: Callable[[], dict[int, Forecast]],
    listens: Callable[[str], bool],
) -> list[Message]:
    """Each waiting phone of those services its own place, nothing of anyone else's (DESIGN §6).

    One small message per phone listening (``ticket:position``), none for a ticket nobody
    follows: what a change costs grows with the phones, not with the queue's length squared.
    ``told``: the tokens of the batch's own tickets, which hear ``ticket:update``.
    """
    session, clk = db_session(), clock()
    rooms = {
        f"ticket:{token}": (ticket_id, token, number)
        for ticket_id, token, number in waiting_today(session, clk, service_ids)
        if token not in told
    }
    followed = _followed(list(rooms), listens)
    if not followed:
        return []  # nobody follows these tickets: no pass is made for them
    found = forecasts()
    return [
        ("ticket:position", waiting_position(token, number, found[ticket_id]), room)
        for room, (ticket_id, token, number) in rooms.items()
        if room in followed and ticket_id in found
    ]


def _followed(rooms: list[str], listens: Callable[[str], bool]) -> set[str]:
    """The phone rooms (a ticket's, a service's) someone follows: here, or with Redis on any
    process (one round trip)."""
    manager = getattr(getattr(socketio, "server", None), "manager", None)
    if isinstance(manager, TimedRedisManager) and not manager.write_only and rooms:
        return manager.followed(rooms)
    return {room for room in rooms if listens(room)}


def _calls_messages(
    counter_ids: set[int], service_ids: set[int], listens: Callable[[str], bool]
) -> list[Message]:
    """The numbers now called (``queue:calls``), to the phones of every service those counters
    serve, and of those services (a resync)."""
    if (not counter_ids and not service_ids) or not _may_follow("service:"):
        return []
    session = db_session()
    serving = select(counter_services.c.service_id).where(counter_services.c.counter_id.in_(counter_ids))
    served = session.execute(
        select(Service.id, Service.code).where(Service.id.in_(serving) | Service.id.in_(service_ids))
    ).all()
    followed = _followed([f"service:{code}" for _, code in served], listens)
    return [
        ("queue:calls", calls_update(session, service_id, code), room)
        for service_id, code in served
        if (room := f"service:{code}") in followed
    ]


def _settings_messages(listens: Callable[[str], bool]) -> list[Message]:
    """The hall's set-up changed: kiosks refetch their buttons, boards redraw, panels refresh."""
    session = db_session()
    messages: list[Message] = [("services:changed", {}, "kiosk")]
    if listens("display"):
        messages.append(("display:snapshot", display_snapshot(session, clock()), "display"))
    signal = {"services": [], "counters": [], "settings": True}
    messages.append(("queue:changed", signal, "supervisor"))
    messages += [("queue:changed", signal, f"counter:{i}") for i in session.scalars(select(Counter.id))]
    active = set(session.scalars(select(Counter.id).where(Counter.active.is_(True))))
    messages += _window_messages(active, listens)
    return [message for message in messages if listens(message[2])]


def _window_messages(counter_ids: set[int], listens: Callable[[str], bool]) -> list[Message]:
    """The screens above the windows that changed (a counter's name, state, call or clerk)."""
    watched = {i for i in counter_ids if listens(f"window:{i}")}
    if not watched:
        return []
    session = db_session()
    return [
        ("window:update", window_screen(session, counter), f"window:{counter.id}")
        for counter in session.scalars(select(Counter).where(Counter.id.in_(watched)))
    ]


def _sharing_counters(service_ids: set[int]) -> set[int]:
    """The services and every service linked to them through active counters (transitively)."""
    linked = set(service_ids)
    while linked:
        grown = set().union(*reaches(db_session(), linked).values())
        if grown == linked:
            break
        linked = grown
    return linked


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


def resync_all(app: Flask) -> None:
    """Send every screen fresh state: boards and windows a snapshot, phones their place and calls.

    For when Redis returns after an outage: what other processes published meanwhile was lost.
    """
    try:
        with app.app_context(), read_only():
            service_ids = list(db.session.scalars(select(Service.id)))
            db.session.rollback()
            changes = [{"type": SETTINGS}] + [{"type": "resync", "service_id": i} for i in service_ids]
            publisher(app, _send, socketio.start_background_task).hand(changes)
    except Exception:
        app.logger.exception("Resynchronising the screens failed")


def init_app(app: Flask) -> None:
    """Register the Socket.IO handlers; a server's change watcher starts with its first request."""
    sockets.init_app(app)  # the rooms a screen joins, the limits per address, ended sessions
    manager = getattr(getattr(socketio, "server", None), "manager", None)
    if isinstance(manager, TimedRedisManager):
        manager.on_return = lambda: resync_all(app)

    def _start_watcher() -> None:
        if WATCHER not in app.extensions and app.config.get("QMS_CHANGE_WATCH", not app.testing):
            with _starting:
                start_change_watcher(app)

    app.before_request(_start_watcher)


_starting = threading.Lock()
