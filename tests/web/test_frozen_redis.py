"""A frozen Redis (it accepts connections and never answers) stalls neither requests nor publishing."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from kiosk import realtime


@pytest.fixture
def frozen_redis() -> Iterator[str]:
    """A port whose connections are accepted by the kernel and then never answered."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()


def test_tickets_are_issued_and_publishing_gives_up_while_redis_is_frozen(
    app_factory: Callable[..., Flask], frozen_redis: str
) -> None:
    # The rate limiter's own Redis storage is not what this test is about.
    app = app_factory(QMS_REDIS_URL=frozen_redis, RATELIMIT_ENABLED=False)
    client = app.test_client()
    numbers = [client.post("/api/v1/tickets", json={"service": "A"}).get_json()["number"] for _ in range(20)]
    with app.app_context():
        assert realtime.flush(timeout=30), "the publisher waited on Redis without a timeout"
    assert numbers == [f"A{n:03d}" for n in range(1, 21)]


def test_the_ticket_limit_counts_in_memory_while_redis_is_frozen(
    app_factory: Callable[..., Flask], frozen_redis: str
) -> None:
    app = app_factory(QMS_REDIS_URL=frozen_redis, QMS_TICKET_RATE_LIMIT="5/minute")
    client = app.test_client()

    answers = [client.post("/api/v1/tickets", json={"service": "A"}).status_code for _ in range(7)]

    assert answers == [201] * 5 + [429] * 2
