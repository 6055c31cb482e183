"""Finding (or starting) the real PostgreSQL and Redis the tests need, and fresh schemas on them."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import sqlalchemy as sa

from queue_engine.core.db import sqlalchemy_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _pg_reachable(url: str) -> bool:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def postgres_url() -> tuple[str | None, str]:
    """A reachable PostgreSQL URL, starting the local cluster if it is down; or (None, why)."""
    url = sqlalchemy_url(os.environ.get("QMS_TEST_DATABASE_URL", DEFAULT_PG))
    if _pg_reachable(url):
        return url, ""
    if shutil.which("pg_ctlcluster") and os.path.isdir("/etc/postgresql"):
        for version in os.listdir("/etc/postgresql"):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        for _ in range(20):
            if _pg_reachable(url):
                return url, ""
            time.sleep(0.5)
    return None, f"PostgreSQL not reachable at {url} (set QMS_TEST_DATABASE_URL)"


def redis_url() -> tuple[str | None, str]:
    """A reachable Redis URL, starting a local redis-server if none answers; or (None, why)."""
    import redis

    url = os.environ.get("QMS_TEST_REDIS_URL", DEFAULT_REDIS)

    def ping() -> bool:
        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
        except Exception:
            return False

    if ping():
        return url, ""
    if shutil.which("redis-server"):
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        for _ in range(20):
            if ping():
                return url, ""
            time.sleep(0.25)
    return None, f"Redis not reachable at {url} (set QMS_TEST_REDIS_URL)"


@contextmanager
def fresh_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty PostgreSQL schema, dropped afterwards."""
    schema = "t_" + secrets.token_hex(6)
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
