"""The screens' side of Socket.IO: joining a room (with its snapshot at once), the limit of
open sockets per client address, and staff sockets ended with their session.

A screen emits ``join`` with its room: ``display``, ``kiosk``, ``ticket`` (+ token), ``tablet``
(+ device token), ``window`` (+ counter_id), ``counter`` (+ counter_id, staff) or
``supervisor`` (staff).  Staff sockets also join ``staff-user:<id>``, so that a log-out, a
password reset or a deactivation (the user's ``session_generation`` moving) disconnects them,
on every process when Redis is configured.  Public screens also emit ``heartbeat``
(kiosk.heartbeats).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from flask_socketio import emit, join_room
from socketio.exceptions import ConnectionRefusedError as SocketRefused  # type: ignore[import-untyped]
from sqlalchemy import event, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kiosk import heartbeats
from kiosk.auth import token_digest
from kiosk.context import clock
from kiosk.extensions import db, db_session, socketio
from kiosk.limits import registered_device
from kiosk.redis_queue import TimedRedisManager
from queue_engine.core.db import read_only
from queue_engine.core.errors import QueueError, UnknownTicket
from queue_engine.core.lookups import tablet_by_digest, ticket_by_token
from queue_engine.core.models import Counter, User
from queue_engine.queue.snapshots import (
    awaiting_rating,
    calls_update,
    display_snapshot,
    ticket_view,
    window_screen,
)

RESYNC_RETRY_S = 3  # how often a process looks whether the database is back, after a failed join
_RESYNC_OWED = "qms_resync_owed"
_resync_lock = threading.Lock()


def _join(data: Any) -> None:
    try:
        with read_only():  # a screen's snapshot only reads
            _join_room(data if isinstance(data, dict) else {})
    except DBAPIError as error:
        # The database is down: the screen is in its room but has nothing to show.  Tell it, and
        # send every screen of this process fresh state as soon as the database answers again,
        # so a board that came up during the outage does not stay blank until the next call.
        try:
            db_session().rollback()
        except DBAPIError:
            pass
        current_app.logger.error("A screen joined while the database was unavailable: %s", error.orig)
        emit("error", {"code": "database_unavailable", "retry_after_s": RESYNC_RETRY_S})
        _resync_when_the_database_returns(current_app._get_current_object())  # type: ignore[attr-defined]


def _resync_when_the_database_returns(app: Flask) -> None:
    with _resync_lock:
        if app.extensions.get(_RESYNC_OWED):
            return  # one waiting task per process, however many screens joined meanwhile
        app.extensions[_RESYNC_OWED] = True
    socketio.start_background_task(_resync_loop, app)


def _resync_loop(app: Flask) -> None:
    from kiosk import realtime  # realtime imports this module

    while True:
        socketio.sleep(RESYNC_RETRY_S)
        try:
            with app.app_context(), db.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except DBAPIError:
            continue
        with _resync_lock:
            app.extensions[_RESYNC_OWED] = False
        realtime.resync_all(app)
        return


def _join_room(data: dict[str, Any]) -> None:
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
        emit("queue:calls", calls_update(session, ticket.service_id, ticket.service.code))
    elif room == "counter" and current_user.is_authenticated:
        counter = (
            session.get(Counter, data.get("counter_id")) if isinstance(data.get("counter_id"), int) else None
        )
        if counter is None or not current_user.may_use_counter(counter):
            emit("error", {"code": "forbidden"})
            return
        join_room(f"counter:{counter.id}")
        join_room(staff_room(current_user.id))
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
        join_room(staff_room(current_user.id))
        emit("queue:changed", {"services": [], "counters": []})
    else:
        emit("error", {"code": "forbidden", "room": room})
    session.rollback()


def staff_room(user_id: int) -> str:
    """The room recording which sockets a member of staff joined staff rooms with."""
    return f"staff-user:{user_id}"


def disconnect_staff(user_ids: Iterable[int]) -> None:
    """Disconnect these staff's sockets (their session ended), with Redis on every process.

    Their pages reconnect, and the ended session joins no staff room again.
    """
    server = getattr(socketio, "server", None)  # python-socketio's Server (untyped)
    if server is None:
        return
    for room in [staff_room(user_id) for user_id in user_ids]:
        if isinstance(server.manager, TimedRedisManager):
            server.manager.disconnect_room(room)
        else:
            for sid, _ in list(server.manager.get_participants("/", room)):
                server.disconnect(sid, namespace="/")


ENDED = "qms_ended_sessions"


def _note_ended_sessions(session: Session, *_: Any) -> None:
    # Log-out, a password reset or change and a deactivation all end sessions the one way
    # (queue_engine.hall.logins.end_sessions: a new session generation); noted at the flush,
    # acted on when it is committed.
    for obj in session.dirty:
        if isinstance(obj, User) and inspect(obj).attrs.session_generation.history.has_changes():
            session.info.setdefault(ENDED, set()).add(obj.id)


def _end_sockets_after_commit(session: Session) -> None:
    ended = session.info.pop(ENDED, None)
    if ended:
        disconnect_staff(sorted(ended))


def _forget_ended_sessions(session: Session) -> None:
    session.info.pop(ENDED, None)


@dataclass
class SocketBook:
    """This process's open anonymous sockets per client address (staff and kiosks not counted)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    per_address: dict[str, int] = field(default_factory=dict)
    address_of: dict[str, str] = field(default_factory=dict)  # socket id -> its client address
    refusing: set[str] = field(default_factory=set)  # addresses at their limit, logged once each


SOCKETS = "qms_sockets"


def _counted() -> bool:
    """Whether this socket counts against its address's limit.

    Logged-in staff and registered kiosks are not counted: a hall's kiosks share one address,
    and a flood from an address must never crowd out the staff behind it.
    """
    try:
        return not current_user.is_authenticated and registered_device() is None
    finally:
        db.session.rollback()


def _connect(*_: Any) -> None:
    limit = int(current_app.config.get("QMS_SOCKETS_PER_ADDRESS", 200))
    if limit <= 0 or not _counted():
        return
    book: SocketBook = current_app.extensions[SOCKETS]
    address = request.remote_addr or "?"
    with book.lock:
        if book.per_address.get(address, 0) >= limit:
            if address not in book.refusing:  # once per flood, not once per refused socket
                book.refusing.add(address)
                current_app.logger.warning("Refusing sockets from %s: %d open (the limit)", address, limit)
            raise SocketRefused({"code": "too_many_connections"})
        book.per_address[address] = book.per_address.get(address, 0) + 1
        book.address_of[request.sid] = address  # type: ignore[attr-defined]  # set by Flask-SocketIO


def _disconnect(*_: Any) -> None:
    heartbeats.forget_socket()
    book: SocketBook = current_app.extensions[SOCKETS]
    with book.lock:
        address = book.address_of.pop(request.sid, None)  # type: ignore[attr-defined]
        if address is not None:
            book.refusing.discard(address)
            left = book.per_address.pop(address) - 1
            if left > 0:
                book.per_address[address] = left


def init_app(app: Flask) -> None:
    """Register the connect, disconnect and join handlers and the ended-session hooks."""
    app.extensions[SOCKETS] = SocketBook()
    socketio.on_event("connect", _connect)
    socketio.on_event("disconnect", _disconnect)
    socketio.on_event("join", _join)
    heartbeats.init_app(app)  # the screens' heartbeats (设备故障应急)
    if not event.contains(Session, "after_flush", _note_ended_sessions):
        event.listen(Session, "after_flush", _note_ended_sessions)
        event.listen(Session, "after_commit", _end_sockets_after_commit)
        event.listen(Session, "after_rollback", _forget_ended_sessions)
