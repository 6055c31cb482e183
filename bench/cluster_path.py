"""Issuing on the scale-out set-up: PostgreSQL, two server processes, Redis, nginx in front.

Issue 12 asks for at least 200 tickets/s in total there. This starts, on 127.0.0.1 only and all
of its own: a fresh PostgreSQL schema (``QMS_BENCH_DATABASE_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``; created and dropped), a private ``redis-server``
on a free port, ``init-db`` + ``seed-demo``, two gunicorn processes as ``deploy/run-two.sh``
starts them (one worker each, gevent's unless ``QMS_ASYNC_MODE=threading``) and
``deploy/nginx.conf`` in front of them on a free port. Then, with ``wrk`` (Debian's ``wrk``: C,
keep-alive, so the clients cost the two cores little), for each client count:

* ``GET /healthz`` through nginx (no database: the set-up's ceiling), the reference;
* ``POST /api/v1/tickets`` through nginx, the services taken in turn (A, B, C, D: a morning
  rush over the demo hall), tickets/s, p50/p99 and errors; the CPU it cost, per ticket, in the
  two workers, in PostgreSQL's processes, in nginx and in Redis;
* the same against one process directly (no nginx), for comparison.

Nothing is asserted: this measures.  Run:
``.venv/bin/python bench/cluster_path.py [--seconds 10] [--clients 8,16]``.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.display_latency import (  # noqa: E402
    cpu_seconds,
    flask_cli,
    gunicorn,
    load_average,
    machine_line,
    pg_schema,
    pg_unavailable,
    private_redis,
)
from tests.live import free_port, nginx_conf, running_nginx, server_env  # noqa: E402

ISSUE_SCRIPT = """
local services = {"A", "B", "C", "D"}
local turn = 0
request = function()
  turn = turn + 1
  return wrk.format("POST", "/api/v1/tickets", {["Content-Type"] = "application/json"},
                    '{"service": "' .. services[turn % #services + 1] .. '"}')
end
"""


@dataclass
class Row:
    what: str
    clients: int
    requests: int
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    note: str = ""


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(url: str, clients: int, seconds: float, script: Path | None, what: str) -> Row:
    command = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds:g}s", "--latency", "--timeout", "30s"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 120
    ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(n) for n in failed.groups()) if failed else 0
    return Row(what, clients, requests, rate, p50, p99, errors)


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
    return found


def cpu_by_pid(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """Each group's processes' CPU seconds so far, by pid (PostgreSQL's and Redis's looked up
    afresh: a backend started for a new pooled connection counts too)."""
    found = {**groups, "postgres": pids_named("postgres"), "redis": pids_named("redis-server")}
    return {name: {pid: cpu_seconds(pid) for pid in pids} for name, pids in found.items()}


def cpu_spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each group spent between the two readings (a process new since: all of it)."""
    return {
        name: sum(seconds - before.get(name, {}).get(pid, 0.0) for pid, seconds in pids.items())
        for name, pids in after.items()
    }


@contextlib.contextmanager
def nginx_in_front(upstreams: list[str], folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """deploy/nginx.conf with our two processes as its upstream, on a free port, files in ``folder``."""
    port = free_port()
    conf = nginx_conf(upstreams, port, folder)
    # Keep-alive to the upstreams, as a production front would (else a connection per request).
    conf = conf.replace("        server 127.0.0.1", "        keepalive 32;\n        server 127.0.0.1", 1)
    conf = conf.replace(
        "        location / {\n            proxy_pass http://qms;",
        "        location / {\n            proxy_pass http://qms;\n            proxy_http_version 1.1;\n"
        '            proxy_set_header Connection "";',
    )
    with running_nginx(conf, port, folder) as found:
        yield found


def issue_row(
    target: str, what: str, clients: int, seconds: float, script: Path, groups: dict[str, list[int]]
) -> Row:
    """Issue for ``seconds`` through ``target``; the CPU each group of processes spent per ticket."""
    before = cpu_by_pid(groups)
    row = run_wrk(f"{target}/api/v1/tickets", clients, seconds, script, f"POST /api/v1/tickets, {what}")
    spent = cpu_spent(before, cpu_by_pid(groups))
    tickets = max(row.requests - row.errors, 1)
    row.note = "CPU per ticket: " + ", ".join(
        f"{name} {seconds / tickets * 1000:.1f} ms" for name, seconds in spent.items()
    )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per row (default 10)")
    parser.add_argument("--clients", default="8,16", help="client connections, comma-separated")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    why = pg_unavailable()
    if why:
        raise SystemExit(f"SKIPPED: {why}")
    began = time.perf_counter()
    load_before = load_average()
    print(f"Machine: {machine_line()}")
    print(f"Load average at start: {load_before}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="qms-cluster-") as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "issue.lua"
        script.write_text(ISSUE_SCRIPT)
        with pg_schema() as url, private_redis(tmp) as redis_url:
            env = server_env(url, QMS_REDIS_URL=redis_url, QMS_PROXY_COUNT="1")
            flask_cli(env, "init-db")
            flask_cli(env, "seed-demo")
            with contextlib.ExitStack() as stack:
                servers = [
                    stack.enter_context(gunicorn(env, 0, tmp / f"gunicorn-{i}.log", control_socket_flag=True))
                    for i in (1, 2)
                ]
                front, nginx = stack.enter_context(nginx_in_front([s.url for s in servers], tmp))
                groups = {
                    "workers": [pid for s in servers if (pid := s.worker_pid()) is not None],
                    "nginx": [nginx.pid, *(p for p in pids_named("nginx") if p != nginx.pid)],
                }
                for clients in [int(c) for c in args.clients.split(",")]:
                    health = run_wrk(f"{front}/healthz", clients, args.seconds, None, "GET /healthz, nginx")
                    rows.append(health)
                    for target, what in ((front, "via nginx, 2 processes"), (servers[0].url, "1 process")):
                        rows.append(issue_row(target, what, clients, args.seconds, script, groups))
                        print(_line(rows[-1]), flush=True)
    print()
    print("| what | clients | requests | req/s | p50 ms | p99 ms | errors | notes |")
    print("| --- | --: | --: | --: | --: | --: | --: | --- |")
    for row in rows:
        print(_line(row))
    print(
        f"\nRun took {time.perf_counter() - began:.0f} s; load average at start {load_before}, "
        f"at end {load_average()}."
    )
    return 0


def _line(row: Row) -> str:
    return (
        f"| {row.what} | {row.clients} | {row.requests} | {row.rate:.0f} | {row.p50_ms:.1f} | "
        f"{row.p99_ms:.1f} | {row.errors} | {row.note} |"
    )


if __name__ == "__main__":
    sys.exit(main())
