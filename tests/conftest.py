"""Fixtures shared by every suite: the databases under test, found or started for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import fresh_schema, postgres_url, redis_url

DATABASES = ["sqlite", "postgresql"]


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


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'qms.sqlite3'}"
        return
    base = request.getfixturevalue("postgres_base_url")
    with fresh_schema(base) as url:
        yield url
