"""Every entry point publishes (DESIGN §6): close-day and import-config, run as a second process
beside a running server, reach the boards and kiosks already open on that server.

Without Redis (the embedded set-up: one server process, the CLI another) the server's change
watcher notices what the CLI committed; with ``QMS_REDIS_URL`` the CLI publishes through the
Socket.IO message queue itself (the server's watcher is off then, so the event can only have
come through Redis).
"""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.live import LiveServer, live_server, server_env

TIMEOUT_S = 15


class Screen:
    """A board (or a kiosk) on the live server: a Socket.IO client joined to one room."""

    def __init__(self, url: str, room: str) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for name in ("display:snapshot", "services:changed"):
            self.client.on(name, lambda data, name=name: self.events.put((name, data)))
        self.client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT_S)
        self.client.emit("join", {"room": room})

    def wait_for(self, name: str, test: Any = lambda data: True) -> dict[str, Any]:
        """The first event of that name passing the test, or fail after the timeout."""
        seen = []
        try:
            while True:
                got, data = self.events.get(timeout=TIMEOUT_S)
                seen.append(got)
                if got == name and test(data):
                    return data  # type: ignore[no-any-return]
        except queue.Empty:
            pytest.fail(f"no {name} passing the test within {TIMEOUT_S} s (saw {seen})")

    def drain(self) -> None:
        """Forget what arrived so far."""
        while not self.events.empty():
            self.events.get_nowait()

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()


@pytest.fixture
def screens() -> Iterator[list[Screen]]:
    """Screens opened by a test, disconnected at its end."""
    opened: list[Screen] = []
    yield opened
    for screen in opened:
        screen.close()


def _server(tmp_path: Path, **extra: str) -> Any:
    return live_server(server_env(f"sqlite:///{tmp_path / 'hall.sqlite3'}", **extra))


def _waiting_a(server: LiveServer, board: Screen) -> None:
    """Take a ticket for A through the API; the board shows it waiting."""
    assert requests.post(f"{server.url}/api/v1/tickets", json={"service": "A"}, timeout=10).status_code == 201
    board.wait_for("display:snapshot", lambda s: s["waiting"]["A"] == 1)


def _close_day_reaches_the_board(server: LiveServer, screens: list[Screen]) -> None:
    board = Screen(server.url, "display")
    screens.append(board)
    board.wait_for("display:snapshot")  # the snapshot on join
    _waiting_a(server, board)
    today = requests.get(f"{server.url}/api/v1/display", timeout=10).json()
    assert today["waiting"]["A"] == 1
    board.drain()
    day = server.flask("close-day", "--date", "2999-12-31")
    assert "Expired 1 ticket(s)." in day
    board.wait_for("display:snapshot", lambda s: s["waiting"]["A"] == 0)


def _import_config_reaches_board_and_kiosk(server: LiveServer, screens: list[Screen], tmp_path: Path) -> None:
    board, kiosk = Screen(server.url, "display"), Screen(server.url, "kiosk")
    screens += [board, kiosk]
    board.wait_for("display:snapshot")
    path = tmp_path / "hall.json"
    server.flask("export-config", "--output", str(path))
    config = json.loads(path.read_text())
    service = next(s for s in config["services"] if s["code"] == "A")
    service["names"]["en"] = "Renamed by the command line"
    path.write_text(json.dumps(config))
    board.drain()
    assert "Configuration imported." in server.flask("import-config", str(path))
    kiosk.wait_for("services:changed")
    snapshot = board.wait_for(
        "display:snapshot",
        lambda s: any(x["names"].get("en") == "Renamed by the command line" for x in s["services"]),
    )
    assert [x["code"] for x in snapshot["services"]][:1] == ["A"]


@pytest.mark.slow
def test_without_redis_the_server_notices_what_the_command_line_changed(tmp_path, screens):
    with _server(tmp_path) as server:
        _close_day_reaches_the_board(server, screens)
        _import_config_reaches_board_and_kiosk(server, screens, tmp_path)


@pytest.mark.slow
@pytest.mark.redis
def test_with_redis_the_command_line_publishes_through_the_message_queue(tmp_path, screens, redis_server_url):
    # The watcher is off when Redis is configured: the events can only come through Redis.
    with _server(tmp_path, QMS_REDIS_URL=redis_server_url) as server:
        _close_day_reaches_the_board(server, screens)
        _import_config_reaches_board_and_kiosk(server, screens, tmp_path)
