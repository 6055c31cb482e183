"""A real server process (gunicorn, as in production) on a free port, for browser and scale tests."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo-pass-123"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A running server: its base URL and the environment it was started with."""

    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path | None = None

    def stop(self) -> None:
        """Stop the server (clients see it go away)."""
        stop_server(self.process)

    def start(self) -> None:
        """Start the server again on the same port."""
        self.process = start_server(self.env, int(self.url.rsplit(":", 1)[1]), self.log)

    def restart(self, pause_s: float = 0.0) -> None:
        """Stop the server, wait, and start it again on the same port (clients must reconnect)."""
        self.stop()
        time.sleep(pause_s)
        self.start()

    def flask(self, *args: str) -> str:
        """Run a Flask CLI command against the same database; returns its output."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "kiosk", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout

    def token(self, username: str) -> dict[str, str]:
        """Bearer headers for a user: a new API token, as `flask issue-token` gives (the same
        function, on the same database, without starting a process: tests/web/test_cli.py runs
        the command itself)."""
        from kiosk.auth import issue_token
        from queue_engine.core.db import make_engine
        from queue_engine.core.models import User

        engine = make_engine(self.env["QMS_DATABASE_URL"])
        try:
            with Session(engine) as session:
                token = issue_token(session.scalars(select(User).where(User.username == username)).one())
                session.commit()
        finally:
            engine.dispose()
        return {"Authorization": f"Bearer {token}"}


# As `make run` and deploy/run-two.sh start the server: without glibc's per-thread cache of freed
# memory, which with a thread per WebSocket grows all day (bench/README.md, soak.py).
SERVER_GLIBC_TUNABLES = "glibc.malloc.tcache_count=0"
GEVENT_SOCKETS = 12_000  # a gevent server's --worker-connections: room for every test's sockets


def nginx_conf(upstreams: list[str], port: int, folder: Path) -> str:
    """deploy/nginx.conf with two of our processes (``http://host:port``) as its upstream, on
    ``port``, its pid file, logs and temp folders in ``folder`` (a demo nginx is left alone)."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "QMS_ROOT": str(ROOT),
        "127.0.0.1:5001": upstreams[0].removeprefix("http://"),
        "127.0.0.1:5002": upstreams[1].removeprefix("http://"),
        "listen 127.0.0.1:8080": f"listen 127.0.0.1:{port}",
        "/tmp/qms-nginx": str(folder / "qms-nginx"),
    }
    for old, new in replacements.items():
        if old not in conf:
            raise AssertionError(f"deploy/nginx.conf no longer contains {old!r}")
        conf = conf.replace(old, new)
    return conf


NGINX = os.environ.get("QMS_NGINX", shutil.which("nginx") or "/usr/sbin/nginx")


@contextmanager
def running_nginx(conf: str, port: int, folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """nginx with ``conf`` (see ``nginx_conf``) on ``port``, its files in ``folder``, once it carries
    a request to the app; its URL and process. Stopped afterwards (its workers along)."""
    path = folder / "nginx.conf"
    path.write_text(conf)
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-e", str(folder / "startup-error.log"), "-c", str(path),
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if process.poll() is not None:
                raise AssertionError(f"nginx exited with {process.returncode}: {_nginx_errors(folder)}")
            try:
                if requests.get(url + "/api/v1/services", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise AssertionError(f"nginx did not answer in time: {_nginx_errors(folder)}")
        yield url, process
    finally:
        _stop_nginx(process)


def _nginx_errors(folder: Path) -> str:
    return " ".join(p.read_text()[-2000:] for p in folder.glob("*error.log"))


def _stop_nginx(process: subprocess.Popen[bytes]) -> None:
    """Stop the nginx master we started (it takes its workers along), killing its group if it lingers."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a test server; its instance/ folder is a temporary one of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QMS_")}
    env.setdefault("GLIBC_TUNABLES", SERVER_GLIBC_TUNABLES)
    env.update(
        QMS_DATABASE_URL=database_url,
        QMS_INSTANCE_PATH=tempfile.mkdtemp(prefix="qms-instance-"),
        QMS_REDIS_CHANNEL="qms-test-" + secrets.token_hex(4),
        QMS_SECRET_KEY="live-test-secret",
        QMS_TICKET_RATE_LIMIT="0",
        QMS_DEMO_PASSWORD=DEMO_PASSWORD,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


# Per test process: prepared SQLite files (init-db + seed-demo), keyed by the settings that could
# change what those commands write; a new SQLite database starts as a copy of one.
_PREPARED: dict[frozenset[tuple[str, str]], Path] = {}
_PER_SERVER = {"QMS_DATABASE_URL", "QMS_INSTANCE_PATH", "QMS_REDIS_CHANNEL"}


def _prepared_template(env: dict[str, str]) -> tuple[Path, Path]:
    key = frozenset((k, v) for k, v in env.items() if k.startswith("QMS_") and k not in _PER_SERVER)
    if key not in _PREPARED:
        folder = Path(tempfile.mkdtemp(prefix="qms-prepared-"))
        atexit.register(shutil.rmtree, folder, True)
        (folder / "instance").mkdir()
        template_env = {
            **env,
            "QMS_DATABASE_URL": f"sqlite:///{folder / 'qms.sqlite3'}",
            "QMS_INSTANCE_PATH": str(folder / "instance"),
        }
        _run_prepare(template_env)
        _PREPARED[key] = folder
    folder = _PREPARED[key]
    return folder / "qms.sqlite3", folder / "instance"


def prepare_database(env: dict[str, str]) -> None:
    """Create the tables and the demo hall in the server's database.

    A new SQLite file is a copy of one prepared by the same two commands once per test process
    (with the same settings): the rows and the schema revision they write, and the demo logins
    file they leave in instance/, for a file copy's cost instead of two CLI runs.
    """
    url = env["QMS_DATABASE_URL"]
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        database, instance = _prepared_template(env)
        shutil.copyfile(database, url.removeprefix("sqlite:///"))
        target = Path(env["QMS_INSTANCE_PATH"])
        target.mkdir(parents=True, exist_ok=True)
        for item in instance.iterdir():
            if item.is_file():
                shutil.copyfile(item, target / item.name)
        return
    _run_prepare(env)


def _run_prepare(env: dict[str, str]) -> None:
    for command in ("init-db", "seed-demo"):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "kiosk", command],
            env=env,
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=120,
        )


def worker_args(env: dict[str, str], *, threads: int, sockets: int = GEVENT_SOCKETS) -> list[str]:
    """gunicorn's worker for the server's ``QMS_ASYNC_MODE``: gthread with ``threads`` threads (each
    open WebSocket holds one), or gevent holding up to ``sockets`` connections (a greenlet each)."""
    if env.get("QMS_ASYNC_MODE", "threading").strip().lower() == "gevent":
        return ["--worker-class", "gevent", "--worker-connections", str(sockets)]
    args = ["--worker-class", "gthread", "--threads", str(threads)]
    if threads + 100 > 1000:  # gthread's default --worker-connections is 1000
        args += ["--worker-connections", str(threads + 100)]
    return args


def start_server(env: dict[str, str], port: int, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start gunicorn (one worker, its class from ``QMS_ASYNC_MODE``: as `make run` does) and wait
    until it answers."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            *worker_args(env, threads=32),
            "--workers",
            "1",
            "--graceful-timeout",
            "2",
            "--no-control-socket",  # several test masters at once must not share one
            "--bind",
            f"127.0.0.1:{port}",
            "kiosk.wsgi:app",
        ],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if log:
        out.close()  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if requests.get(url + "/api/v1/services", timeout=5).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)
    stop_server(process)
    raise RuntimeError("server did not start in time")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and its worker (its own process group), killing them if they linger."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        process.wait()
    # The worker may outlive the master for a moment: wait until the group is gone.
    for _ in range(100):
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def live_server(
    env: dict[str, str], *, prepare: bool = True, log: Path | None = None
) -> Iterator[LiveServer]:
    """A server on a free port for the duration of the block."""
    if prepare:
        prepare_database(env)
    port = free_port()
    server = LiveServer(f"http://127.0.0.1:{port}", env, start_server(env, port, log), log)
    try:
        yield server
    finally:
        stop_server(server.process)
