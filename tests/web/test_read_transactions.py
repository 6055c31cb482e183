"""Reads never wait for writes (DESIGN §5): on SQLite a GET reads beside a writer holding the lock.

Were a read to begin IMMEDIATE, it would wait out the busy timeout and fail "database is locked".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from kiosk.extensions import db, socketio

from .helpers import delivered


@contextmanager
def writer_holding_the_lock(app: Flask) -> Iterator[None]:
    """Another connection in the middle of a write transaction (as a slow call-next would be)."""
    with app.app_context():
        path = db.engine.url.database
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE services SET sort_order = sort_order")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_visitor_and_a_board_read_while_a_writer_holds_the_lock(
    app: Flask, client: FlaskClient, take_ticket: Any
) -> None:
    ticket = take_ticket("A")
    with writer_holding_the_lock(app):
        display = client.get("/api/v1/display")
        mine = client.get(f"/api/v1/tickets/{ticket['token']}")
        services = client.get("/api/v1/services")
        board = socketio.test_client(app, flask_test_client=client)
        board.emit("join", {"room": "display"})
        events = delivered(board)
        board.disconnect()
    assert display.status_code == 200 and display.get_json()["waiting"]["A"] == 1
    assert mine.status_code == 200 and mine.get_json()["position"] == 1
    assert services.status_code == 200
    assert [e["name"] for e in events] == ["display:snapshot"]
