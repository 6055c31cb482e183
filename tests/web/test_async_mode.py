"""QMS_ASYNC_MODE: the server's async mode is named, and a gevent app refuses a worker that would hang it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import create_app
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
