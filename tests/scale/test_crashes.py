"""``kill -9`` of a server in the middle of a burst of issues and calls, with real processes.

On SQLite (one process) and on PostgreSQL (one of two processes): after the restart every
ticket that was answered 201 exists, no number was given twice, numbering goes on, and no
counter is left holding a ticket its clerk cannot release.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.live import (
    LiveServer,
    free_port,
    live_server,
    prepare_database,
    server_env,
    start_server,
    stop_server,
)
from tests.services import fresh_schema

pytestmark = [pytest.mark.slow]

TIMEOUT_S = 10
# The kill comes in the middle of the burst: once this many tickets were answered (however busy
# the machine), the issuers and the clerk still going.
ANSWERED_BEFORE_KILL = 40


class Hall:
    """The server to kill, the one that stays (the same one on SQLite), and a clerk's headers."""

    def __init__(self, victim: LiveServer, other: LiveServer, clerk: dict[str, str]) -> None:
        self.victim, self.other, self.clerk = victim, other, clerk


@pytest.fixture(params=["sqlite", "postgresql"])
def hall(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hall]:
    """SQLite: one process.  PostgreSQL: two processes on one fresh schema."""
    if request.param == "sqlite":
        with live_server(server_env(f"sqlite:///{tmp_path / 'qms.sqlite3'}")) as server:
            yield Hall(server, server, server.token("clerk1"))
        return
    base: str = request.getfixturevalue("postgres_base_url")
    with fresh_schema(base) as url:
        env = server_env(url)
        prepare_database(env)
        with live_server(env, prepare=False) as first:
            port = free_port()
            second = LiveServer(f"http://127.0.0.1:{port}", env, start_server(env, port))
            try:
                yield Hall(first, second, first.token("clerk1"))
            finally:
                stop_server(second.process)


def _kill_hard(server: LiveServer) -> None:
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()
    for _ in range(100):  # the worker goes with its group
        try:
            os.killpg(server.process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def test_kill_9_during_a_burst_loses_no_ticket_and_leaves_no_counter_stuck(hall: Hall) -> None:
    answered: list[dict[str, Any]] = []
    stop = threading.Event()
    urls = [hall.victim.url, hall.other.url]

    def issue(worker: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                answer = requests.post(
                    f"{urls[(worker + i) % 2]}/api/v1/tickets", json={"service": "A"}, timeout=TIMEOUT_S
                )
            except requests.RequestException:
                continue  # the server went away under us: this ticket was never answered
            if answer.status_code == 201:
                answered.append(answer.json())

    def serve() -> None:
        while not stop.is_set():
            try:
                answer = requests.post(
                    f"{hall.victim.url}/api/v1/counters/1/call-next", json={}, headers=hall.clerk,
                    timeout=TIMEOUT_S,
                )  # fmt: skip
                if answer.status_code == 200:
                    token = answer.json()["ticket"]["token"]
                    requests.post(
                        f"{hall.victim.url}/api/v1/tickets/{token}/finish",
                        json={"outcome": "resolved"}, headers=hall.clerk, timeout=TIMEOUT_S,
                    )  # fmt: skip
            except requests.RequestException:
                time.sleep(0.05)

    threads = [threading.Thread(target=issue, args=(w,)) for w in range(6)] + [threading.Thread(target=serve)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(answered) < ANSWERED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.05)
    _kill_hard(hall.victim)
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join()
    hall.victim.start()

    assert len(answered) > 20, "the burst issued too few tickets to prove anything"
    numbers = [t["number"] for t in answered]
    assert len(set(numbers)) == len(numbers), "a number was given twice"
    for ticket in answered:
        seen = requests.get(f"{hall.victim.url}/api/v1/tickets/{ticket['token']}", timeout=TIMEOUT_S)
        assert seen.status_code == 200 and seen.json()["number"] == ticket["number"], ticket
    after = requests.post(f"{hall.victim.url}/api/v1/tickets", json={"service": "A"}, timeout=TIMEOUT_S)
    assert after.status_code == 201, after.text
    assert int(after.json()["number"][1:]) > max(int(n[1:]) for n in numbers), "numbering went back"

    # The clerk can release whatever counter 1 holds, then call the next visitor.
    counters = requests.get(f"{hall.victim.url}/api/v1/counters", headers=hall.clerk, timeout=TIMEOUT_S)
    held = next(c for c in counters.json() if c["id"] == 1)["ticket"]
    if held is not None:
        done = requests.post(
            f"{hall.victim.url}/api/v1/tickets/{held['token']}/finish",
            json={"outcome": "resolved"}, headers=hall.clerk, timeout=TIMEOUT_S,
        )  # fmt: skip
        assert done.status_code == 200, done.text
    called = requests.post(
        f"{hall.victim.url}/api/v1/counters/1/call-next", json={}, headers=hall.clerk, timeout=TIMEOUT_S
    )
    assert called.status_code == 200, called.text
