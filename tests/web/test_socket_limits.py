"""Sockets on a live server: a per-address limit on anonymous connections (a flood from one
address cannot crowd out other visitors or staff), and staff sockets end with their session."""

from __future__ import annotations

import hashlib
import queue
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.live import DEMO_PASSWORD, LiveServer, live_server, server_env

TIMEOUT_S = 15
LIMIT = 5
FLOOD = "203.0.113.5"
ELSEWHERE = "198.51.100.7"


class Screen:
    """A real Socket.IO client, as seen from a client address (nginx's X-Forwarded-For)."""

    def __init__(self, url: str, address: str, cookie: str = "") -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.gone = threading.Event()
        self.client = socketio.Client(reconnection=False)
        for name in ("display:snapshot", "queue:changed", "error"):
            self.client.on(name, lambda data, name=name: self.events.put((name, data)))
        self.client.on("disconnect", lambda *_: self.gone.set())
        headers = {"X-Forwarded-For": address} | ({"Cookie": cookie} if cookie else {})
        self.client.connect(url, headers=headers, transports=["websocket"], wait_timeout=TIMEOUT_S)

    def join(self, room: str, **data: Any) -> str:
        """Join a room; the first event the server answers with."""
        self.client.emit("join", {"room": room, **data})
        return self.events.get(timeout=TIMEOUT_S)[0]

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    env = server_env(
        f"sqlite:///{tmp_path / 'hall.sqlite3'}", QMS_PROXY_COUNT="1", QMS_SOCKETS_PER_ADDRESS=str(LIMIT)
    )
    with live_server(env, log=tmp_path / "server.log") as running:
        yield running


@pytest.fixture
def screens() -> Iterator[list[Screen]]:
    opened: list[Screen] = []
    yield opened
    for screen in opened:
        screen.close()


def _csrf(browser: requests.Session, url: str) -> str:
    html = browser.get(url, timeout=10).text
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "the page carries its CSRF token"
    return found.group(1)


def _logged_in(server: LiveServer, username: str, address: str) -> requests.Session:
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = address
    token = _csrf(browser, server.url + "/login")
    answer = browser.post(
        server.url + "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    return browser


def _cookie(browser: requests.Session) -> str:
    return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


def _registered_kiosk(tmp_path: Path) -> str:
    """The device token of a kiosk registered in the live server's database."""
    token = secrets.token_urlsafe(32)
    with sqlite3.connect(tmp_path / "hall.sqlite3") as db:
        db.execute(
            "insert into kiosk_devices (name, token_hash, active, created_at) values (?, ?, 1, ?)",
            ("hall kiosk", hashlib.sha256(token.encode()).hexdigest(), "2026-01-05 08:00:00"),
        )
    return token


def test_a_flood_from_one_address_is_refused_and_stops_nobody_else(
    server: LiveServer, screens: list[Screen], tmp_path: Path
) -> None:
    for _ in range(LIMIT):
        screens.append(Screen(server.url, FLOOD))
    assert [screen.join("display") for screen in screens] == ["display:snapshot"] * LIMIT

    for _ in range(2):
        with pytest.raises(socketio.exceptions.ConnectionError):
            Screen(server.url, FLOOD)
    assert server.log is not None
    assert server.log.read_text().count(f"Refusing sockets from {FLOOD}") == 1, "logged once"

    other = Screen(server.url, ELSEWHERE)
    screens.append(other)
    assert other.join("display") == "display:snapshot", "another visitor's board still connects"
    supervisor = Screen(server.url, FLOOD, _cookie(_logged_in(server, "supervisor", FLOOD)))
    screens.append(supervisor)
    assert supervisor.join("supervisor") == "queue:changed", "staff behind that address still connect"
    kiosk = Screen(server.url, FLOOD, f"qms_kiosk_device={_registered_kiosk(tmp_path)}")
    screens.append(kiosk)
    assert kiosk.join("display") == "display:snapshot", "a registered kiosk there still connects"
    assert requests.get(server.url + "/api/v1/display", timeout=10).ok

    screens.pop(0).close()
    again = Screen(server.url, FLOOD)
    screens.append(again)
    assert again.join("display") == "display:snapshot", "a closed socket frees its place"


def test_logging_out_ends_the_staff_sockets_of_that_session(
    server: LiveServer, screens: list[Screen]
) -> None:
    browser = _logged_in(server, "supervisor", ELSEWHERE)
    live_view = Screen(server.url, ELSEWHERE, _cookie(browser))
    screens.append(live_view)
    assert live_view.join("supervisor") == "queue:changed"
    board = Screen(server.url, ELSEWHERE)
    screens.append(board)
    assert board.join("display") == "display:snapshot"

    token = _csrf(browser, server.url + "/supervisor")
    assert browser.post(server.url + "/logout", data={"csrf_token": token}, timeout=10).ok

    assert live_view.gone.wait(TIMEOUT_S), "the logged-out socket left the supervisor room"
    assert not board.gone.is_set(), "anonymous boards stay connected"


def test_an_admins_password_reset_ends_the_clerks_counter_socket(
    server: LiveServer, screens: list[Screen], tmp_path: Path
) -> None:
    clerk = Screen(server.url, ELSEWHERE, _cookie(_logged_in(server, "clerk1", ELSEWHERE)))
    screens.append(clerk)
    assert clerk.join("counter", counter_id=1) == "queue:changed"
    with sqlite3.connect(tmp_path / "hall.sqlite3") as db:
        (clerk_id,) = db.execute("select id from users where username = 'clerk1'").fetchone()
    admin = _logged_in(server, "admin", ELSEWHERE)
    token = _csrf(admin, server.url + "/admin/staff")

    reset = admin.post(
        f"{server.url}/admin/staff/{clerk_id}/password", data={"csrf_token": token}, timeout=10
    )

    assert reset.ok
    assert clerk.gone.wait(TIMEOUT_S), "the clerk's socket left the counter room"


@pytest.mark.redis
def test_logging_out_on_one_process_ends_the_socket_held_by_another(
    tmp_path: Path, redis_server_url: str, screens: list[Screen]
) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'hall.sqlite3'}", QMS_REDIS_URL=redis_server_url)
    with live_server(env) as first, live_server(env, prepare=False) as second:
        browser = _logged_in(first, "supervisor", ELSEWHERE)
        live_view = Screen(second.url, ELSEWHERE, _cookie(browser))
        screens.append(live_view)
        assert live_view.join("supervisor") == "queue:changed"

        token = _csrf(browser, first.url + "/supervisor")
        assert browser.post(first.url + "/logout", data={"csrf_token": token}, timeout=10).ok

        assert live_view.gone.wait(TIMEOUT_S), "the other process's socket left the supervisor room"
