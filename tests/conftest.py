"""Fixtures shared by every suite: the databases under test, found or started for real, and the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from queue_engine import FakeClock
from tests.services import fresh_schema, postgres_url, redis_url

DATABASES = ["sqlite", "postgresql"]
# Monday 5 January 2026, 09:00 in Shanghai.
MONDAY_9AM = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def monday_clock() -> FakeClock:
    """A hall clock standing at Monday 09:00 in Asia/Shanghai (for fixtures wider than one test)."""
    return FakeClock(tz=ZoneInfo("Asia/Shanghai"), current=MONDAY_9AM)


@pytest.fixture
def clock() -> FakeClock:
    """The hall clock standing at Monday 09:00 in Asia/Shanghai; tests move it."""
    return monday_clock()


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    """The PostgreSQL server's URL; skips loudly when none can be had."""
    url, why = postgres_url()
    if url is None:
        pytest.skip(f"SKIPPED (no PostgreSQL): {why}")
    return url


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    """The Redis server's URL; skips loudly when none can be had."""
    url, why = redis_url()
    if url is None:
        pytest.skip(f"SKIPPED (no Redis): {why}")
    return url


@pytest.fixture
def postgres_database_url(postgres_base_url: str) -> Iterator[str]:
    """The PostgreSQL side of ``database_url``: a fresh, empty schema, dropped after the test.

    A suite that keeps one schema of tables for the whole run (tests/engine, which empties them
    before each test) overrides this fixture; ``database_url`` stays the one definition.
    """
    with fresh_schema(postgres_base_url) as url:
        yield url


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of each kind for one test: a new SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'qms.sqlite3'}"
    url: str = request.getfixturevalue("postgres_database_url")
    return url
