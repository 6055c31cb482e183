"""Two real server processes on one PostgreSQL schema, each with its outbox worker on, and one real
receiver: 100 tickets issued across both, and each ``ticket.issued`` arrives exactly once.

Both workers poll the same outbox every 0.2 s; without ``FOR UPDATE SKIP LOCKED`` and the lease
they would take the same rows and the receiver would get a ticket twice under one ``id``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.live import LiveServer, free_port, prepare_database, server_env, start_server, stop_server
from tests.receiver import Receiver
from tests.services import fresh_schema

pytestmark = [pytest.mark.postgres]

TICKETS = 100
WAIT_S = 15


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as found:
        yield found


@pytest.fixture
def two_servers(postgres_base_url: str, receiver: Receiver, tmp_path: Path) -> Iterator[list[LiveServer]]:
    """The demo hall, a subscription of the receiver to ``ticket.issued``, two gunicorn processes."""
    with fresh_schema(postgres_base_url) as database_url:
        env = server_env(
            database_url, QMS_OUTBOX_WORKER="1", QMS_OUTBOX_SECONDS="0.2", QMS_AUTO_CLOSE_DAY="0"
        )
        prepare_database(env)
        servers: list[LiveServer] = []
        try:
            with ThreadPoolExecutor(2) as pool:
                ports = [free_port(), free_port()]
                logs = [tmp_path / f"server{i}.log" for i in range(2)]
                starting = [
                    pool.submit(start_server, env, port, log) for port, log in zip(ports, logs, strict=True)
                ]
                for port, log, future in zip(ports, logs, starting, strict=True):
                    if future.exception() is None:
                        servers.append(LiveServer(f"http://127.0.0.1:{port}", env, future.result(), log))
                for future in starting:
                    future.result()
            added = servers[0].flask("webhook", "add", receiver.url, "--events", "ticket.issued")
            receiver.secret = added.strip().splitlines()[-1]
            yield servers
        finally:
            for server in servers:
                stop_server(server.process)


def take(url: str) -> str:
    answer = requests.post(f"{url}/api/v1/tickets", json={"service": "A"}, timeout=10)
    assert answer.status_code == 201, answer.text
    number: str = answer.json()["number"]
    return number


def test_each_ticket_issued_is_delivered_once_by_two_processes(
    two_servers: list[LiveServer], receiver: Receiver
) -> None:
    urls = [server.url for server in two_servers]
    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(take, [urls[i % 2] for i in range(TICKETS)]))
    assert len(set(numbers)) == TICKETS
    deadline = time.monotonic() + WAIT_S
    while len(receiver.accepted()) < TICKETS and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # a few more rounds of both workers: a repeat would arrive now
    got = receiver.accepted()
    assert receiver.bad_signatures == 0
    repeats = [key for key, n in Counter(g["id"] for g in got).items() if n > 1]
    assert repeats == []
    assert sorted(g["data"]["ticket"]["number"] for g in got) == sorted(numbers)
    assert {g["event"] for g in got} == {"ticket.issued"}
