"""A PostgreSQL outage as visitors and clients meet it, on a private cluster the test starts and stops.

During the outage the API answers 503 ``database_unavailable`` with ``Retry-After`` (not 500
``internal_error``) and pages a friendly bilingual "please wait"; after an instant restart the
first request succeeds (the pool pings before use), and no ticket is half-written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.live import LiveServer, free_port, live_server, server_env, start_server, stop_server
from tests.scale.test_two_processes import Board, call_next, take_ticket
from tests.services import fresh_schema

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
TIMEOUT_S = 10


class PrivateCluster:
    """A PostgreSQL cluster of our own in a temporary folder (run as ``postgres`` when we are root)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qms-crash-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l",
                  str(self.folder / "log"), "start")  # fmt: skip

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """A private cluster, started; skips loudly when one cannot be had."""
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and not shutil.which("runuser")):
        pytest.skip(f"SKIPPED (no private PostgreSQL): {PG_BIN / 'initdb'} or runuser missing")
    pg = PrivateCluster()
    try:
        pg.start()
        yield pg
    finally:
        pg.remove()


@pytest.fixture(scope="module")
def server(cluster: PrivateCluster) -> Iterator[LiveServer]:
    """The demo hall on the private cluster, served by gunicorn."""
    with live_server(server_env(cluster.url)) as live:
        yield live


def test_an_outage_says_please_wait_and_the_first_request_after_it_succeeds(
    cluster: PrivateCluster, server: LiveServer
) -> None:
    before = requests.post(f"{server.url}/api/v1/tickets", json={"service": "A"}, timeout=TIMEOUT_S)
    assert before.status_code == 201, before.text
    cluster.stop()
    try:
        api = requests.post(f"{server.url}/api/v1/tickets", json={"service": "A"}, timeout=TIMEOUT_S)
        assert api.status_code == 503, api.text
        assert api.json()["error"]["code"] == "database_unavailable"
        assert int(api.headers["Retry-After"]) > 0
        page = requests.get(f"{server.url}/kiosk", timeout=TIMEOUT_S)
        assert page.status_code == 503
        assert "请稍候" in page.text and "please wait" in page.text
        assert "Traceback" not in page.text
        ready = requests.get(f"{server.url}/readyz", timeout=TIMEOUT_S)
        assert ready.status_code == 503
        # A board switched on during the outage is told so, and shows nothing wrong meanwhile.
        board = Board(server.url, origin=None, wait=False)
        assert board.errors.get(timeout=TIMEOUT_S)["code"] == "database_unavailable"
    finally:
        cluster.start()
    try:
        # With nothing called since, it gets the hall's state by itself once the database is back.
        snapshot = board.snapshots.get(timeout=TIMEOUT_S)
        assert "now_serving" in snapshot
    finally:
        board.close()
    # The very first request after the restart succeeds: the pool's dead connections are replaced.
    after = requests.post(f"{server.url}/api/v1/tickets", json={"service": "A"}, timeout=TIMEOUT_S)
    assert after.status_code == 201, after.text
    # Nothing half-written: the number refused during the outage was never given.
    assert int(after.json()["number"][1:]) == int(before.json()["number"][1:]) + 1


class PrivateRedis:
    """A redis-server of our own on a free port, stopped and started by the test."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        import redis

        for _ in range(100):
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    """A private redis-server; skips loudly without one."""
    if not shutil.which("redis-server"):
        pytest.skip("SKIPPED (no redis-server): install Debian's redis-server")
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.redis
def test_a_redis_outage_errors_for_nobody_and_boards_resync_when_it_returns(
    postgres_base_url: str, private_redis: PrivateRedis
) -> None:
    with fresh_schema(postgres_base_url) as url:
        env = server_env(url, QMS_REDIS_URL=private_redis.url)
        with live_server(env) as first:
            port = free_port()
            second = LiveServer(f"http://127.0.0.1:{port}", env, start_server(env, port))
            try:
                clerk = first.token("clerk1")
                far, near = Board(second.url, origin=None), Board(first.url, origin=None)
                try:
                    private_redis.stop()
                    ticket = take_ticket(first.url, "A")  # visitors get no error
                    assert take_ticket(second.url, "B")["number"].startswith("B")
                    called = call_next(first.url, 1, clerk)
                    assert called is not None and called["number"] == ticket["number"]
                    near.call_of(ticket["number"])  # this process goes on serving its own screens
                    private_redis.start()
                    # The board on the other process missed the call; it gets a fresh snapshot at once.
                    far.snapshot_serving(ticket["number"])
                finally:
                    far.close()
                    near.close()
            finally:
                stop_server(second.process)
