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
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.live import LiveServer, free_port, live_server, server_env

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
    finally:
        cluster.start()
    # The very first request after the restart succeeds: the pool's dead connections are replaced.
    after = requests.post(f"{server.url}/api/v1/tickets", json={"service": "A"}, timeout=TIMEOUT_S)
    assert after.status_code == 201, after.text
    # Nothing half-written: the number refused during the outage was never given.
    assert int(after.json()["number"][1:]) == int(before.json()["number"][1:]) + 1
