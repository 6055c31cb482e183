"""Socket.IO: rooms, snapshots on (re)connect, and the one place where changes are published.

Views commit through ``commit()``; the engine's noted changes are then turned into events
carrying what each screen draws (primitive values only), so that a call reaches every board
and phone without an HTTP request per screen.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_login import current_user
from flask_socketio import emit, join_room
from sqlalchemy import select

from kiosk.context import clock
from kiosk.extensions import db, socketio
from queue_engine.core.errors import QueueError, UnknownTicket
from queue_engine.core.events import take_changes
from queue_engine.core.lookups import ticket_by_token
from queue_engine.core.models import Counter, Service, Ticket
from queue_engine.queue.estimates import service_loads
from queue_engine.queue.snapshots import awaiting_rating, display_snapshot, ticket_view, waiting_positions

CALL_TYPES = ("called", "recalled")


def commit() -> None:
    """Commit the request's transaction, then publish what it changed.

    The change is done once committed: a failure to publish is logged, never turned into an
    error answer (clients would retry and take a second ticket); screens heal on reconnect.
    """
    db.session.commit()
    changes = take_changes(db.session)
    try:
        publish(changes)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Publishing %d change(s) failed", len(changes))


def publish(changes: list[dict[str, Any]]) -> None:
    """Tell every screen concerned about committed changes."""
    if not changes:
        return
    session = db.session
    clk = clock()
    ticket_ids = {c["ticket_id"] for c in changes if c.get("ticket_id")}
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
    loads = service_loads(session, clk)
    for change in changes:
        ticket = tickets.get(change.get("ticket_id") or 0)
        if change["type"] in CALL_TYPES and ticket is not None and ticket.counter is not None:
            socketio.emit("display:call", call_payload(ticket), to="display")
        if change["type"] == "finished" and change.get("counter_id"):
            prompt = awaiting_rating(session, clk, change["counter_id"])
            if prompt is not None:
                socketio.emit("rate:request", prompt, to=f"counter:{change['counter_id']}")
    socketio.emit("display:snapshot", display_snapshot(session, clk, loads=loads), to="display")
    socketio.emit("services:changed", {}, to="kiosk")
    for ticket in tickets.values():
        socketio.emit(
            "ticket:update", ticket_view(session, clk, ticket, loads=loads), to=f"ticket:{ticket.token}"
        )
    services = {c["service_id"] for c in changes if c.get("service_id")}
    services |= {t.transferred_from_id for t in tickets.values() if t.transferred_from_id}
    for service_id in services:
        # One message per queue, not one per waiting phone: each phone finds its own number.
        code = session.get(Service, service_id).code  # type: ignore[union-attr]
        order = [
            {"number": p["number"], "ahead": p["ahead"], "estimated_wait_s": p["estimated_wait_s"]}
            for p in waiting_positions(session, clk, service_id, loads[service_id])
        ]
        socketio.emit("queue:order", {"service": code, "waiting": order}, to=f"service:{code}")
    counters = {c["counter_id"] for c in changes if c.get("counter_id")}
    signal = {"services": sorted(services), "counters": sorted(counters)}
    socketio.emit("queue:changed", signal, to="supervisor")
    for counter_id in _counters_serving(services) | counters:
        socketio.emit("queue:changed", signal, to=f"counter:{counter_id}")
    session.rollback()  # end the read transaction (SQLite holds its write lock until then)


def publish_settings_changed() -> None:
    """After an admin's change is committed: kiosks refetch their buttons, boards redraw, panels refresh."""
    session = db.session
    socketio.emit("services:changed", {}, to="kiosk")
    socketio.emit("display:snapshot", display_snapshot(session, clock()), to="display")
    signal = {"services": [], "counters": [], "settings": True}
    socketio.emit("queue:changed", signal, to="supervisor")
    for counter_id in session.scalars(select(Counter.id)):
        socketio.emit("queue:changed", signal, to=f"counter:{counter_id}")
    session.rollback()  # end the read transaction


def _counters_serving(service_ids: set[int]) -> set[int]:
    if not service_ids:
        return set()
    return set(
        db.session.scalars(select(Counter.id).join(Counter.services).where(Service.id.in_(service_ids)))
    )


def call_payload(ticket: Ticket) -> dict[str, Any]:
    """What a board needs to flash and announce a call."""
    counter = ticket.counter
    return {
        "number": ticket.number,
        "service": ticket.service.code,
        "counter": counter.name if counter else None,
        "counter_id": ticket.counter_id,
        "call_count": ticket.call_count,
        "lang": ticket.lang,
    }


def _join(data: Any) -> None:
    data = data if isinstance(data, dict) else {}
    room = data.get("room")
    session, clk = db.session, clock()
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
    """Register the Socket.IO handlers."""
    socketio.on_event("join", _join)
