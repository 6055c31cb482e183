"""The change watcher: a server without Redis publishes what another process committed.

The other process is stood in for by a second engine and session on the same database (the
real two-process case, with ``flask close-day`` / ``import-config`` beside a gunicorn server,
is tests/scale/test_cli_publishes.py).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kiosk import realtime
from kiosk.extensions import db, socketio
from queue_engine import issue_ticket
from queue_engine.core.db import make_engine, reading
from queue_engine.core.models import Service, TicketEvent
from queue_engine.hall.admin import save_service, service_record
from queue_engine.hall.audit import audit

from .helpers import delivered


def received(sio) -> list[tuple[str, Any]]:
    return [(event["name"], event["args"][0] if event["args"] else None) for event in delivered(sio)]


@pytest.fixture
def watched(app_factory, database_url):
    """An app whose change watcher is set up (its marks taken) but looks only when told."""
    app = app_factory(database_url, QMS_CHANGE_WATCH_SECONDS=3600)
    realtime.start_change_watcher(app)
    yield app
    realtime.stop_change_watcher(app, timeout=0)


@pytest.fixture
def other_process(watched, clock):
    """A session of its own on the same database, as a command-line process would have."""
    engine = make_engine(watched.config["SQLALCHEMY_DATABASE_URI"])
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def board(watched):
    sio = socketio.test_client(watched)
    sio.emit("join", {"room": "display"})
    sio.get_received()  # the join snapshot
    yield sio
    sio.disconnect()


def test_a_ticket_taken_by_another_process_reaches_the_board(watched, other_process, board, clock):
    issue_ticket(other_process, clock, "A")
    other_process.commit()
    assert received(board) == []  # nobody told this process yet

    assert realtime.watch_once(watched) == 1

    snapshots = [data for name, data in received(board) if name == "display:snapshot"]
    assert [s["waiting"]["A"] for s in snapshots] == [1]
    assert realtime.watch_once(watched) == 0  # seen once, published once


def test_what_this_process_published_itself_is_not_published_again(watched, board):
    client = watched.test_client()
    assert client.post("/api/v1/tickets", json={"service": "A"}).status_code == 201
    assert [name for name, _ in received(board)].count("display:snapshot") == 1

    assert realtime.watch_once(watched) == 0
    assert received(board) == []


def test_a_settings_change_by_another_process_refreshes_kiosks_and_boards(
    watched, other_process, board, clock
):
    kiosk = socketio.test_client(watched)
    kiosk.emit("join", {"room": "kiosk"})
    service = other_process.query(Service).filter_by(code="A").one()
    values = service_record(service) | {"names": {"zh": "改名", "en": "Renamed elsewhere"}}
    save_service(other_process, clock, None, values, service.id)
    other_process.commit()

    assert realtime.watch_once(watched) == 1

    assert [name for name, _ in received(kiosk)] == ["services:changed"]
    snapshot = next(data for name, data in received(board) if name == "display:snapshot")
    assert snapshot["services"][0]["names"]["en"] == "Renamed elsewhere"
    kiosk.disconnect()


def test_a_mere_read_of_personal_data_refreshes_no_screen(watched, other_process, board, clock):
    audit(other_process, clock, None, "view_visits", "visits:3")
    other_process.commit()

    assert realtime.watch_once(watched) == 0
    assert received(board) == []


def test_the_watcher_never_takes_the_write_lock(watched, other_process, clock):
    """While the watcher looks (a read transaction held open), a ticket can still be taken."""
    if not watched.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("only SQLite has one write lock for the whole database")
    with watched.app_context(), reading(db.engine) as connection:
        connection.execute(text("SELECT max(id) FROM ticket_events")).scalar()  # transaction now open
        started = time.perf_counter()
        issue_ticket(other_process, clock, "A")
        other_process.commit()
        assert time.perf_counter() - started < 1.0


def test_an_event_committed_late_with_a_lower_id_is_still_published(watched, other_process, board, clock):
    """PostgreSQL may commit id 7 after id 8 was seen: the next look goes back for it."""
    early = issue_ticket(other_process, clock, "A")
    late = issue_ticket(other_process, clock, "B")
    other_process.commit()
    early_event, late_event = (
        other_process.scalars(select(TicketEvent.id).where(TicketEvent.ticket_id == t.id)).one()
        for t in (early, late)
    )
    # As if the watcher had looked when only the higher id was committed.
    watcher = watched.extensions[realtime.WATCHER]
    watcher.event_mark, watcher.published = late_event, {late_event}
    assert realtime.watch_once(watched) == 0  # the mark did not move: nothing looked at

    issue_ticket(other_process, clock, "C")
    other_process.commit()

    assert realtime.watch_once(watched) == 2  # the late A and the new C, not B again
    snapshot = [data for name, data in received(board) if name == "display:snapshot"][-1]
    assert snapshot["waiting"] == {"A": 1, "B": 1, "C": 1, "D": 0}
    assert early_event < late_event


def test_what_was_committed_before_the_watcher_started_is_not_replayed(app_factory, database_url, clock):
    app = app_factory(database_url, QMS_CHANGE_WATCH_SECONDS=3600)
    assert app.test_client().post("/api/v1/tickets", json={"service": "A"}).status_code == 201
    realtime.start_change_watcher(app)
    engine = make_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with Session(engine) as session:
            issue_ticket(session, clock, "B")
            session.commit()
        assert realtime.watch_once(app) == 1  # B's event only, not A's from before the start
    finally:
        realtime.stop_change_watcher(app, timeout=0)
        engine.dispose()


def test_the_watch_interval_comes_from_the_environment(monkeypatch, tmp_path):
    from kiosk.config import from_environment

    monkeypatch.setenv("QMS_SECRET_KEY", "x")
    assert from_environment(tmp_path, tmp_path)["QMS_CHANGE_WATCH_SECONDS"] == 1.5
    monkeypatch.setenv("QMS_CHANGE_WATCH_SECONDS", "0")
    assert from_environment(tmp_path, tmp_path)["QMS_CHANGE_WATCH_SECONDS"] == 0.0
