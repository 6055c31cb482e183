"""QMS_ASYNC_MODE: the server's async mode is named, and a gevent app refuses a worker that would hang it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import create_app, realtime
from kiosk.extensions import db, socketio
from kiosk.serving import check_worker


def test_an_unknown_async_mode_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QMS_ASYNC_MODE", "eventlet")
    with pytest.raises(ValueError, match="QMS_ASYNC_MODE must be one of threading, gevent"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'q.sqlite3'}", "TESTING": True})


def test_a_gevent_app_refuses_a_worker_that_did_not_patch_the_standard_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QMS_ASYNC_MODE", "gevent")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'q.sqlite3'}", "TESTING": True})
    with pytest.raises(RuntimeError, match="--worker-class gevent"):
        check_worker(app)  # as kiosk.wsgi does: this test process is not patched


def test_a_gevent_setting_in_a_process_gevent_did_not_patch_runs_threads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """QMS_ASYNC_MODE=gevent in the environment of the command line (or of the tests) must not
    make its app spawn greenlets that never run: its publisher is a thread that sends."""
    monkeypatch.setenv("QMS_ASYNC_MODE", "gevent")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'q.sqlite3'}", "TESTING": True})
    assert app.config["QMS_ASYNC_MODE"] == "gevent"
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert socketio.server.async_mode == "threading"
    try:
        with app.app_context():
            realtime.publish([{"type": "settings"}])
            assert realtime.flush(timeout=10), "the publisher never ran"
    finally:
        realtime.stop_publisher(app)
