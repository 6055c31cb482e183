"""Heartbeats of the public screens over their Socket.IO link (设备故障应急).

A kiosk, board, rating tablet or window screen emits ``heartbeat`` every 20 s with its kind,
name and state; the answer (the emit's acknowledgement) says whether it was recorded.  A
heartbeat costs one statement and publishes nothing; one socket is heard at most once every
``MIN_INTERVAL_S`` (a faster sender is told ``too_often``), and new names stop at the hall's cap
(``QMS_DEVICES_MAX``), so a flood of invented names cannot fill the table.

The page version every page carries (``<meta name="qms-version">``) is a digest of the static
files the server has now: a screen reporting another one still shows an older page.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request

from kiosk.context import clock
from kiosk.extensions import db_session, socketio
from queue_engine.hall.devices import (
    SILENT_AFTER_S,
    BadHeartbeat,
    devices_overview,
    heartbeat_of,
    record_heartbeat,
)

MIN_INTERVAL_S = 5.0  # the pages send every 20 s, and once at once on (re)connect
HEARTBEATS = "qms_heartbeats"


@dataclass
class HeartbeatBook:
    """When each of this process's sockets was last heard (forgotten when it disconnects)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    last_heard: dict[str, float] = field(default_factory=dict)
    capped_logged: bool = False

    def admit(self, sid: str) -> bool:
        """Whether a socket may be heard now (not within MIN_INTERVAL_S of its last heartbeat)."""
        now = time.monotonic()
        with self.lock:
            if now - self.last_heard.get(sid, -MIN_INTERVAL_S) < MIN_INTERVAL_S:
                return False
            self.last_heard[sid] = now
            return True

    def forget(self, sid: str) -> None:
        """A socket closed: its entry goes (the book never outgrows the open sockets)."""
        with self.lock:
            self.last_heard.pop(sid, None)


def _heartbeat(data: Any) -> dict[str, Any]:
    book: HeartbeatBook = current_app.extensions[HEARTBEATS]
    if not book.admit(request.sid):  # type: ignore[attr-defined]  # set by Flask-SocketIO
        return {"ok": False, "code": "too_often"}
    try:
        beat = heartbeat_of(data)
    except BadHeartbeat as refused:
        return {"ok": False, "code": "invalid_input", "message": str(refused)}
    session = db_session()
    try:
        recorded = record_heartbeat(
            session,
            clock().now(),
            beat,
            request.remote_addr,
            max_devices=int(current_app.config.get("QMS_DEVICES_MAX", 500)),
        )
        session.commit()
    except Exception:
        session.rollback()
        current_app.logger.exception("A heartbeat from a %s was not recorded", beat.kind)
        return {"ok": False, "code": "internal_error"}
    if not recorded:
        if not book.capped_logged:  # once per process, not once per refused name
            book.capped_logged = True
            current_app.logger.warning("Refusing new device names: the hall's device limit is reached")
        return {"ok": False, "code": "too_many_devices"}
    return {"ok": True}


def forget_socket() -> None:
    """Called on every disconnect: the socket's rate-limit entry goes with it."""
    book: HeartbeatBook | None = current_app.extensions.get(HEARTBEATS)
    if book is not None:
        book.forget(request.sid)  # type: ignore[attr-defined]


def device_context() -> dict[str, Any]:
    """The public screens as the supervisor sees them, and the silence after which they alert."""
    silent_after_s = int(current_app.config.get("QMS_DEVICE_SILENT_S", SILENT_AFTER_S))
    devices = devices_overview(
        db_session(),
        clock().now(),
        silent_after_s=silent_after_s,
        page_version=current_app.config.get("QMS_PAGE_VERSION"),
    )
    return {"devices": devices, "silent_after_s": silent_after_s}


def page_version(static: Path) -> str:
    """A short digest of the scripts and styles pages load: it changes with any of them."""
    digest = hashlib.sha256()
    for path in sorted([*static.glob("js/*.js"), *static.glob("css/*.css")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def init_app(app: Flask) -> None:
    """Register the heartbeat handler and the page version pages carry."""
    app.extensions[HEARTBEATS] = HeartbeatBook()
    app.config.setdefault("QMS_PAGE_VERSION", page_version(Path(app.static_folder or "static")))
    socketio.on_event("heartbeat", _heartbeat)
    app.context_processor(lambda: {"page_version": app.config["QMS_PAGE_VERSION"]})
