"""Redis down: the ticket limit falls back to memory in each process, and visitors keep taking tickets."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from flask import Flask

from tests.live import free_port

FALLBACK = "falling back to in-memory storage"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _take(app: Flask, n: int) -> list[int]:
    client = app.test_client()
    return [client.post("/api/v1/tickets", json={"service": "A"}).status_code for _ in range(n)]


@pytest.fixture
def private_redis() -> Iterator[Callable[[], None]]:
    """A redis-server of this test's own on a free port (started here); yields how to stop it."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(40):
        try:
            if redis.Redis.from_url(url, socket_connect_timeout=1).ping():
                break
        except redis.RedisError:
            time.sleep(0.25)

    def stop() -> None:
        process.terminate()
        process.wait(10)

    stop.url = url  # type: ignore[attr-defined]
    yield stop
    if process.poll() is None:
        stop()


def test_with_redis_unreachable_tickets_are_issued_and_limited_in_memory(
    app_factory: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = app_factory(QMS_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", QMS_TICKET_RATE_LIMIT="3/minute")

    with caplog.at_level(logging.WARNING):
        answers = _take(app, 5)

    assert answers == [201, 201, 201, 429, 429], "the limit still holds, counted in this process"
    fallbacks = [m for m in _warnings(caplog) if FALLBACK in m]
    assert len(fallbacks) == 1, "the outage is logged once, not for every request"


def test_a_redis_that_stops_mid_day_does_not_stop_the_tickets(
    app_factory: Callable[..., Flask], private_redis: Callable[[], None], caplog: pytest.LogCaptureFixture
) -> None:
    app = app_factory(QMS_REDIS_URL=private_redis.url, QMS_TICKET_RATE_LIMIT="20/minute")  # type: ignore[attr-defined]
    assert _take(app, 2) == [201, 201]
    counters = redis.Redis.from_url(private_redis.url).keys("*")  # type: ignore[attr-defined]
    assert counters, "while Redis runs, the limit is counted there"

    private_redis()
    with caplog.at_level(logging.WARNING):
        answers = _take(app, 10)

    assert answers == [201] * 10
    assert len([m for m in _warnings(caplog) if FALLBACK in m]) == 1
