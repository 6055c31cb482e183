"""The real server under gevent (``QMS_ASYNC_MODE=gevent``, gunicorn's gevent worker), on each database.

Issue 12: no thread per socket, and idle sockets must not starve the hall.  The walk-in loop
works end to end (a ticket, a call, the board's ``display:call``, the phone's ``ticket:update``),
and with a thousand idle boards held open a visitor still takes a ticket and a clerk still
calls it, every one of those boards hears the call, and the server holds them all without a
thread for each.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.live import LiveServer, live_server, server_env

pytestmark = pytest.mark.slow

TIMEOUT_S = 15
IDLE_BOARDS = 1_000
CONNECTING_AT_ONCE = 50
THREADS_AT_MOST = 50  # the worker's own and gevent's few helper threads, not one per socket


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    env = server_env(database_url, QMS_ASYNC_MODE="gevent", QMS_SOCKETS_PER_ADDRESS=str(2 * IDLE_BOARDS))
    with live_server(env, log=tmp_path / "server.log") as running:
        yield running


def worker_threads(server: LiveServer) -> int:
    """The thread count of the server's worker process (the gunicorn master's child)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines = (entry / "status").read_text().splitlines()
            except OSError:
                continue
            status = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
            if status.get("PPid", "").strip() == str(server.process.pid):
                return int(status["Threads"])
    raise AssertionError("the server has no worker process")


class Screen:
    """A board or a phone: a Socket.IO client (WebSocket only) that keeps what it is sent."""

    def __init__(self, url: str, join: dict[str, Any], *events: str) -> None:
        self.events: dict[str, queue.Queue[dict[str, Any]]] = {name: queue.Queue() for name in events}
        self.client = socketio.Client(reconnection=False)
        for name, received in self.events.items():
            self.client.on(name, received.put)
        self.client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT_S)
        self.client.emit("join", join)

    def next(self, event: str, **expected: Any) -> dict[str, Any]:
        """The first ``event`` whose fields hold ``expected`` (earlier ones are passed over)."""
        deadline = time.monotonic() + TIMEOUT_S
        seen = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                data = self.events[event].get(timeout=left)
            except queue.Empty:
                break
            if all(data.get(key) == value for key, value in expected.items()):
                return data
            seen.append(data)
        raise AssertionError(f"no {event} with {expected} within {TIMEOUT_S} s; saw {seen}")

    def close(self) -> None:
        self.client.disconnect()


class IdleBoards:
    """``count`` boards joined to 'display' from one asyncio loop in a thread, counting what they hear."""

    def __init__(self, url: str, count: int) -> None:
        self.url, self.count = url, count
        self.joined = 0
        self.calls: Counter[str] = Counter()  # boards that heard each number's display:call
        self.failures: list[str] = []
        self.changed = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.stopping: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            self.loop.run_until_complete(self._run())
        finally:
            self.loop.close()

    def _note(self, what: str, number: str = "") -> None:
        with self.changed:
            if what == "joined":
                self.joined += 1
            elif what == "call":
                self.calls[number] += 1
            else:
                self.failures.append(what)
            self.changed.notify_all()

    async def _run(self) -> None:
        self.stopping = asyncio.Event()
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
        clients: list[socketio.AsyncClient] = []

        async def board() -> None:
            client = socketio.AsyncClient(reconnection=False)
            clients.append(client)
            first = asyncio.Event()
            client.on("display:snapshot", lambda _data: first.set())
            client.on("display:call", lambda data: self._note("call", str(data.get("number"))))
            try:
                async with gate:
                    await client.connect(self.url, transports=["websocket"], wait_timeout=TIMEOUT_S)
                    await client.emit("join", {"room": "display"})
                    await asyncio.wait_for(first.wait(), TIMEOUT_S * 4)
                self._note("joined")
            except Exception as error:  # counted: the test says how many boards failed and why
                self._note(f"{type(error).__name__}: {error}")

        await asyncio.gather(*(board() for _ in range(self.count)))
        await self.stopping.wait()
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
        await asyncio.gather(*(c.eio.http.close() for c in clients if c.eio.http), return_exceptions=True)

    def wait_for(self, done: Any, timeout: float) -> bool:
        """Wait until ``done()`` holds (True), or ``timeout`` seconds (False)."""
        with self.changed:
            return self.changed.wait_for(done, timeout)

    def close(self) -> None:
        if self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(TIMEOUT_S)


def take_ticket(url: str, service: str = "A") -> dict[str, Any]:
    answer = requests.post(f"{url}/api/v1/tickets", json={"service": service}, timeout=TIMEOUT_S)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def call_next(url: str, clerk: dict[str, str], counter_id: int = 1) -> dict[str, Any]:
    answer = requests.post(
        f"{url}/api/v1/counters/{counter_id}/call-next", json={}, headers=clerk, timeout=TIMEOUT_S
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["ticket"])


def test_the_walk_in_loop_reaches_the_board_and_the_phone(server: LiveServer) -> None:
    clerk = server.token("clerk1")
    board = Screen(server.url, {"room": "display"}, "display:snapshot", "display:call")
    board.next("display:snapshot")
    ticket = take_ticket(server.url)
    phone = Screen(server.url, {"room": "ticket", "token": ticket["token"]}, "ticket:update")
    try:
        assert phone.next("ticket:update")["status"] == "waiting"
        called = call_next(server.url, clerk)
        assert called["number"] == ticket["number"]
        heard = board.next("display:call", number=ticket["number"])
        assert (heard["counter"], heard["service"]) == ("1", "A")
        assert phone.next("ticket:update", status="called")["number"] == ticket["number"]
    finally:
        board.close()
        phone.close()


def test_a_thousand_idle_boards_neither_starve_issuing_and_calling_nor_hold_a_thread_each(
    server: LiveServer,
) -> None:
    clerk = server.token("clerk1")
    boards = IdleBoards(server.url, IDLE_BOARDS)
    try:
        boards.wait_for(lambda: boards.joined + len(boards.failures) == IDLE_BOARDS, 300)
        assert (boards.joined, boards.failures[:3]) == (IDLE_BOARDS, [])
        assert worker_threads(server) <= THREADS_AT_MOST
        ticket = take_ticket(server.url)  # while the thousand sockets are held open
        assert call_next(server.url, clerk)["number"] == ticket["number"]
        number = ticket["number"]
        boards.wait_for(lambda: boards.calls[number] == IDLE_BOARDS, 60)
        assert boards.calls[number] == IDLE_BOARDS  # every socket was still held, and heard the call
    finally:
        boards.close()
