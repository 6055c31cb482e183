"""Two real server processes on one PostgreSQL schema and one Redis, as DESIGN §5-§6 deploy them.

What is proved here cannot be seen with one process or the Socket.IO test client (which
refuses a message queue): a call made through one process reaches boards connected to the
other, nginx in front (deploy/nginx.conf) carries WebSockets and the API, and numbering and
calling stay right when the requests are spread over both processes.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio

from tests.live import (
    NGINX,
    LiveServer,
    free_port,
    nginx_conf,
    prepare_database,
    running_nginx,
    server_env,
    start_server,
    stop_server,
)
from tests.services import fresh_schema

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

TIMEOUT_S = 10
# Calls per counter in the last test (of 200 waiting): enough to see both processes' calls interleave.
CALLS_PER_COUNTER = 30


@dataclass
class Cluster:
    """Two server processes sharing a database and Redis, and Bearer headers for two clerks."""

    first: LiveServer
    second: LiveServer
    clerk1: dict[str, str]
    clerk2: dict[str, str]


@pytest.fixture(scope="module")
def cluster(
    postgres_base_url: str, redis_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """The demo hall in a fresh PostgreSQL schema, served by two gunicorn processes via Redis."""
    folder = tmp_path_factory.mktemp("two-processes")
    with fresh_schema(postgres_base_url) as database_url:
        # One environment for both: the same database, Redis and QMS_SECRET_KEY.
        env = server_env(database_url, QMS_REDIS_URL=redis_server_url)
        prepare_database(env)
        servers: list[LiveServer] = []
        try:
            # Both start (and both tokens are issued) at once: each step is seconds of imports.
            with ThreadPoolExecutor(2) as pool:
                ports = {name: free_port() for name in ("first", "second")}
                logs = {name: folder / f"{name}.log" for name in ports}
                starting = {name: pool.submit(start_server, env, ports[name], logs[name]) for name in ports}
                for name, future in starting.items():
                    if future.exception() is None:
                        url = f"http://127.0.0.1:{ports[name]}"
                        servers.append(LiveServer(url, env, future.result(), logs[name]))
                for future in starting.values():
                    future.result()  # raises the first failure, once the others are kept for stopping
                first, second = servers
                clerk1, clerk2 = pool.map(first.token, ["clerk1", "clerk2"])
            yield Cluster(first, second, clerk1, clerk2)
        finally:
            for server in servers:
                stop_server(server.process)


@pytest.fixture(scope="module")
def nginx_url(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """deploy/nginx.conf in front of both processes, on a free port; skips loudly without nginx."""
    if not Path(NGINX).exists():
        pytest.skip(f"SKIPPED (no nginx): {NGINX} not found; install Debian's nginx")
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    conf = nginx_conf([cluster.first.url, cluster.second.url], port, folder)
    with running_nginx(conf, port, folder) as (url, _process):
        yield url


class Board:
    """A display board: a Socket.IO client (WebSocket only) joined to the 'display' room.

    ``origin`` is the Origin header a browser showing the board would send (the page's own
    scheme, host and port); None sends none, as a native board application would.
    """

    def __init__(self, url: str, origin: str | None, *, wait: bool = True) -> None:
        self.calls: queue.Queue[dict[str, Any]] = queue.Queue()
        self.snapshots: queue.Queue[dict[str, Any]] = queue.Queue()
        handshake = {"suppress_origin": True} if origin is None else {"origin": origin}
        self.client = socketio.Client(reconnection=False, websocket_extra_options=handshake)
        self.client.on("display:call", self.calls.put)
        self.client.on("display:snapshot", self.snapshots.put)
        self.client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT_S)
        self.errors: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client.on("error", self.errors.put)
        self.client.emit("join", {"room": "display"})
        if wait:
            self.snapshots.get(timeout=TIMEOUT_S)  # joined: the first snapshot came

    def call_of(self, number: str) -> dict[str, Any]:
        """The 'display:call' event announcing ``number`` (other calls are passed over)."""
        seen = []
        deadline = time.monotonic() + TIMEOUT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.calls.get(timeout=left)
            except queue.Empty:
                break
            if event.get("number") == number:
                assert str(event.pop("called_at", "")).endswith("Z")  # when, in UTC
                return event
            seen.append(event)
        raise AssertionError(f"no display:call for {number} within {TIMEOUT_S} s; saw {seen}")

    def snapshot_serving(self, number: str) -> dict[str, Any]:
        """The first 'display:snapshot' whose now-serving list shows ``number``."""
        deadline = time.monotonic() + TIMEOUT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                snapshot = self.snapshots.get(timeout=left)
            except queue.Empty:
                break
            if any(entry["number"] == number for entry in snapshot["now_serving"]):
                return snapshot
        raise AssertionError(f"no display:snapshot showing {number} within {TIMEOUT_S} s")

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()


def take_ticket(url: str, service: str) -> dict[str, Any]:
    """POST /api/v1/tickets: a visitor takes a number."""
    answer = requests.post(f"{url}/api/v1/tickets", json={"service": service}, timeout=TIMEOUT_S)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def call_next(url: str, counter_id: int, headers: dict[str, str]) -> dict[str, Any] | None:
    """POST call-next: the called ticket, or None when nobody waits."""
    answer = requests.post(
        f"{url}/api/v1/counters/{counter_id}/call-next", json={}, headers=headers, timeout=TIMEOUT_S
    )
    if answer.status_code == 204:
        return None
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["ticket"])


def finish(url: str, token: str, headers: dict[str, str]) -> None:
    """POST finish: the visit is over and the counter free again."""
    # A complaint (service C) needs its responsible department; other services ignore it.
    body = {"outcome": "resolved", "department": "办公室 Office"}
    answer = requests.post(
        f"{url}/api/v1/tickets/{token}/finish", json=body, headers=headers, timeout=TIMEOUT_S
    )
    assert answer.status_code == 200, answer.text


def test_a_call_through_one_process_reaches_a_board_on_the_other(cluster: Cluster) -> None:
    board = Board(cluster.second.url, origin=cluster.second.url)
    try:
        ticket = take_ticket(cluster.first.url, "A")
        called = call_next(cluster.first.url, 1, cluster.clerk1)
        assert called is not None and called["number"] == ticket["number"]
        try:
            event = board.call_of(ticket["number"])
            assert event == {
                "number": ticket["number"],
                "service": "A",
                "counter": "1",
                "counter_id": 1,
                "call_count": 1,
                "lang": ticket["lang"],
            }
            serving = board.snapshot_serving(ticket["number"])["now_serving"]
            assert [(e["number"], e["counter"]) for e in serving] == [(ticket["number"], "1")]
        finally:
            finish(cluster.first.url, ticket["token"], cluster.clerk1)
    finally:
        board.close()


def call_on_each_process(cluster: Cluster, boards: list[Board], service: str, via: str) -> list[str]:
    """Call a ticket at counter 1 through the first process, then one at counter 2 through the second.

    The tickets are taken and finished through ``via``. Every board must announce each call with
    its number and counter, and show it as now serving. Wherever a board is connected, one of
    the two calls is made on the other process: only Redis can bring it there. Returns the numbers.
    """
    numbers = []
    for url, counter_id, clerk in (
        (cluster.first.url, 1, cluster.clerk1),
        (cluster.second.url, 2, cluster.clerk2),
    ):
        ticket = take_ticket(via, service)
        called = call_next(url, counter_id, clerk)
        assert called is not None and called["number"] == ticket["number"]
        try:
            for board in boards:
                event = board.call_of(ticket["number"])
                assert event == {
                    "number": ticket["number"],
                    "service": service,
                    "counter": str(counter_id),
                    "counter_id": counter_id,
                    "call_count": 1,
                    "lang": ticket["lang"],
                }
                serving = board.snapshot_serving(ticket["number"])["now_serving"]
                assert [(e["number"], e["counter"]) for e in serving] == [(ticket["number"], str(counter_id))]
            holder = requests.get(f"{via}/api/v1/tickets/{ticket['token']}", timeout=TIMEOUT_S).json()
            assert holder["status"] == "called" and holder["counter"]["id"] == counter_id
        finally:
            finish(via, ticket["token"], clerk)  # the counter is free for the next test either way
        numbers.append(ticket["number"])
    return numbers


def test_nginx_carries_websockets_and_the_api_to_both_processes(cluster: Cluster, nginx_url: str) -> None:
    # nginx deals connections out per worker, so two boards may or may not share a process; calls
    # made on each process reach both either way.  No Origin header: see the next test for what
    # a browser's board meets.
    boards = [Board(nginx_url, origin=None), Board(nginx_url, origin=None)]
    try:
        services = requests.get(f"{nginx_url}/api/v1/services", timeout=TIMEOUT_S)
        assert services.ok and {s["code"] for s in services.json()} == {"A", "B", "C", "D"}
        on_first, on_second = call_on_each_process(cluster, boards, "A", via=nginx_url)
        assert int(on_second[1:]) == int(on_first[1:]) + 1, "numbering goes on across processes"
    finally:
        for board in boards:
            board.close()
    # Static files come straight from disk (nginx's alias), not from the app.
    static = requests.get(f"{nginx_url}/static/css/display.css", timeout=TIMEOUT_S)
    assert static.status_code == 200 and "Expires" in static.headers


def test_a_browser_board_behind_nginx_shows_calls_from_both_processes(
    cluster: Cluster, nginx_url: str
) -> None:
    """A browser's board sends ``Origin: http://host:port``; behind nginx it is let in and sees every call."""
    board = Board(nginx_url, origin=nginx_url)
    try:
        on_first, on_second = call_on_each_process(cluster, [board], "C", via=nginx_url)
        assert int(on_second[1:]) == int(on_first[1:]) + 1, "numbering goes on across processes"
    finally:
        board.close()


def test_a_phone_on_one_process_hears_its_place_and_redis_carries_no_one_elses(cluster: Cluster) -> None:
    """A call on the first process moves 40 places; the one phone, on the second, hears its own.

    Redis carries one place message, not one per waiting ticket: the processes tell each other
    which phones they hold (before, every change published a place for every waiting ticket of
    the linked services, whether or not anyone followed it).  Likewise the numbers called go to
    the phone's service alone, not to every service counter 1 serves that no phone follows.
    """
    tickets = [take_ticket(cluster.first.url, "D") for _ in range(40)]
    mine = tickets[-1]
    listener = redis.Redis.from_url(cluster.first.env["QMS_REDIS_URL"]).pubsub()
    listener.subscribe(cluster.first.env["QMS_REDIS_CHANNEL"])
    places: queue.Queue[dict[str, Any]] = queue.Queue()
    phone = socketio.Client(reconnection=False)
    phone.on("ticket:position", places.put)
    calls: queue.Queue[dict[str, Any]] = queue.Queue()
    phone.on("queue:calls", calls.put)
    phone.connect(cluster.second.url, transports=["websocket"], wait_timeout=TIMEOUT_S)
    try:
        joined: queue.Queue[dict[str, Any]] = queue.Queue()
        phone.on("ticket:update", joined.put)
        phone.emit("join", {"room": "ticket", "token": mine["token"]})
        assert joined.get(timeout=TIMEOUT_S)["ahead"] == 39
        served = []
        for _ in range(2):  # counter 1 serves every service: D's first two
            called = call_next(cluster.first.url, 1, cluster.clerk1)
            assert called is not None
            served.append(called)
            finish(cluster.first.url, called["token"], cluster.clerk1)
        place = places.get(timeout=TIMEOUT_S)
        while place["ahead"] > 37:
            place = places.get(timeout=TIMEOUT_S)
        held = requests.get(f"{cluster.second.url}/api/v1/tickets/{mine['token']}", timeout=TIMEOUT_S).json()
        assert (place["token"], place["ahead"], place["position"]) == (mine["token"], 37, held["position"])
        assert [t["number"] for t in served] == [t["number"] for t in tickets[:2]]
        # Its service's "now called", once on joining and again with the calls (a call and its
        # finish may come as one change: the list may be empty again by then).
        heard = [calls.get(timeout=TIMEOUT_S), calls.get(timeout=TIMEOUT_S)]
        assert [h["service"] for h in heard] == ["D", "D"]
    finally:
        phone.disconnect()
    carried = []
    while (message := listener.get_message(timeout=1.0)) is not None:
        if message["type"] == "message":
            carried.append(json.loads(message["data"]))
    listener.close()
    positions = [m for m in carried if m.get("event") == "ticket:position"]
    assert positions, "the place went through Redis to the second process"
    assert {m["room"] for m in positions} == {f"ticket:{mine['token']}"}
    # (the joining phone's own first list goes to its socket's room, through Redis too)
    called = [m for m in carried if m.get("event") == "queue:calls" and m["room"].startswith("service:")]
    assert called, "the numbers called went through Redis to the phone's process"
    assert {m["room"] for m in called} == {"service:D"}, "no phone follows A, B or C"
    for ticket in tickets[2:]:  # leave the queue as it was for the tests after this one
        requests.post(f"{cluster.first.url}/api/v1/tickets/{ticket['token']}/cancel", timeout=TIMEOUT_S)


def test_numbers_and_calls_hold_across_processes(cluster: Cluster) -> None:
    urls = [cluster.first.url, cluster.second.url]

    def take_fifty(worker: int) -> list[dict[str, Any]]:
        return [take_ticket(urls[(worker + i) % 2], "B") for i in range(50)]

    with ThreadPoolExecutor(4) as pool:
        tickets = [t for taken in pool.map(take_fifty, range(4)) for t in taken]
    numbers = [t["number"] for t in tickets]
    assert len(set(numbers)) == 200, "a number was given twice"
    assert sorted(int(n.removeprefix("B")) for n in numbers) == list(range(1, 201))

    def serve(url: str, counter_id: int, headers: dict[str, str]) -> list[str]:
        served = []
        for _ in range(CALLS_PER_COUNTER):
            ticket = call_next(url, counter_id, headers)
            assert ticket is not None, "nobody waiting, yet most tickets were never called"
            served.append(ticket["number"])
            finish(url, ticket["token"], headers)
        return served

    # Counters 1 and 2 serve every service; each calls through its own process, at the same time.
    with ThreadPoolExecutor(2) as pool:
        at_1 = pool.submit(serve, cluster.first.url, 1, cluster.clerk1)
        at_2 = pool.submit(serve, cluster.second.url, 2, cluster.clerk2)
        served_1, served_2 = at_1.result(), at_2.result()
    assert not set(served_1) & set(served_2), "both counters were given the same ticket"
    # First come, first served across both processes: the calls took the lowest numbers, each once.
    assert sorted(served_1 + served_2) == [f"B{n:03d}" for n in range(1, 2 * CALLS_PER_COUNTER + 1)]
    # (The other tickets stay waiting: this test runs last, and the schema is dropped after it.)
