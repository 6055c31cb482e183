"""The head-to-head against a local FQM (mrf345/FQM), for ``bench/issue_path.py --fqm URL``.

FQM is the closest open-source peer (Flask, SQLite, one process under gevent).  It is never
started nor built here: it runs beside the bench, on 127.0.0.1, as bench/README.md tells
("Head-to-head with FQM").  In the same run as our rows, with 8 clients, this measures:

* FQM's trivial route, ``GET /nojs/1`` (a redirect, no database: its framework's ceiling);
* ``POST /api/v1/tickets/`` tickets/s, p50/p99;
* ``GET /api/v1/tickets/pull?office_id=`` tickets/s, p99 (a pull marks the ticket processed:
  FQM's call and finish in one request);

each with keep-alive clients and with ``Connection: close`` (its gevent server stalls about
40 ms per answer on a kept-alive connection), the better of the two in the summary; and the
server CPU per ticket of both servers, from /proc of the processes listening on each port
(or of ``--fqm-pid``).  Only 127.0.0.1 is ever targeted.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from bench.engine_bench import Row, run_parallel

CLIENTS = 8
TRIVIAL = "/nojs/1"
HEX_TOKEN = re.compile(r"\b[0-9a-f]{32}\b")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("head-to-head with a local FQM (bench/fqm_peer.py)")
    group.add_argument("--fqm", metavar="URL", help="a running FQM, e.g. http://127.0.0.1:5055")
    group.add_argument("--fqm-token", help="an FQM API token (else one is taken or made with the login)")
    group.add_argument("--fqm-user", default="Admin", help="FQM admin login, for the token (default Admin)")
    group.add_argument("--fqm-password", default="admin", help="its password (default admin)")
    group.add_argument(
        "--fqm-reset",
        action="store_true",
        help="delete all FQM's tickets first (its DELETE /api/v1/tickets/), an empty hall as ours",
    )
    group.add_argument("--fqm-task", type=int, help="the FQM task to issue for (default its first)")
    group.add_argument(
        "--fqm-pid", type=int, action="append", help="FQM's server pid (default: who listens on its port)"
    )


# --------------------------------------------------------------------------------------------
# Server CPU, from /proc


def listening_pids(base: str) -> list[int]:
    """The processes holding the listening socket of ``base``'s port (gunicorn: master and worker)."""
    port = urlsplit(base).port
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for entry in list(lines)[1:]:
                fields = entry.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                pids.append(int(proc.name))
        except OSError:  # gone, or not ours to read
            continue
    return sorted(pids)


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU of the processes (all their threads) so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            after_name = stat.read().rsplit(")", 1)[1].split()
        total += int(after_name[11]) + int(after_name[12])  # utime, stime
    return total / CLOCK_TICKS


@dataclass
class ServerCpu:
    """Measures a row with the server's CPU per successful operation (noted in the row)."""

    pids: list[int]
    per_op_ms: dict[int, float] = field(default_factory=dict)  # by id() of the row

    @classmethod
    def listening(cls, base: str) -> ServerCpu:
        return cls(listening_pids(base))

    def __call__(self, measure: Callable[[], Row]) -> Row:
        before = cpu_seconds(self.pids)
        row = measure()
        if self.pids and row.ops:
            self.per_op_ms[id(row)] = (cpu_seconds(self.pids) - before) * 1000 / row.ops
            cpu = f"server CPU {self.of(row):.1f} ms each"
            row.note = f"{row.note}; {cpu}" if row.note else cpu
        return row

    def of(self, row: Row) -> float:
        return self.per_op_ms.get(id(row), float("nan"))


# --------------------------------------------------------------------------------------------
# FQM's side


def csrf(page: requests.Response) -> str:
    found = CSRF.search(page.text)
    if not found:
        raise RuntimeError(f"no CSRF token on {page.url}")
    return found.group(1)


def api_token(base: str, user: str, password: str) -> str:
    """An API token of FQM's: the first on its admin page, or a new one, after logging in."""
    browser = requests.Session()
    login = browser.get(f"{base}/", timeout=30)
    browser.post(f"{base}/", data={"name": user, "password": password, "csrf_token": csrf(login)}, timeout=30)
    page = browser.get(f"{base}/auth_tokens", timeout=30)
    if not HEX_TOKEN.search(page.text):
        form = {"name": "qms-bench", "description": "issue_path.py", "csrf_token": csrf(page)}
        browser.post(f"{base}/auth_tokens_a", data=form, timeout=30)
        page = browser.get(f"{base}/auth_tokens", timeout=30)
    found = HEX_TOKEN.search(page.text)
    if not found:
        raise RuntimeError(f"no FQM token on {base}/auth_tokens: is {user!r} its admin with that password?")
    return found.group(0)


@dataclass
class Fqm:
    base: str
    token: str
    task_id: int
    office_id: int = 0

    @classmethod
    def connect(cls, args: argparse.Namespace) -> Fqm:
        base = args.fqm.rstrip("/")
        if urlsplit(base).hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("--fqm: only a FQM on 127.0.0.1 is benched")
        token = args.fqm_token or api_token(base, args.fqm_user, args.fqm_password)
        peer = cls(base, token, args.fqm_task or 0)
        if not peer.task_id:
            tasks = peer.session(close=False).get(f"{base}/api/v1/tasks/", timeout=30)
            tasks.raise_for_status()
            if not tasks.json():
                raise SystemExit(f"FQM at {base} has no task: add an office and a task on its admin pages")
            peer.task_id = tasks.json()[0]["id"]
        peer.office_id = peer.issue(peer.session(close=False))["office_id"]
        return peer

    def session(self, *, close: bool) -> requests.Session:
        http = requests.Session()
        http.headers["Authorization"] = f"Token {self.token}"
        if close:
            http.headers["Connection"] = "close"
        return http

    def issue(self, http: requests.Session) -> dict[str, int]:
        """One ticket for the task (at its office once known: the first issue's)."""
        payload = {"task_id": self.task_id, **({"office_id": self.office_id} if self.office_id else {})}
        answer = http.post(f"{self.base}/api/v1/tickets/", json=payload, timeout=60)
        if answer.status_code != 200:
            raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")
        ticket: dict[str, int] = answer.json()
        return ticket

    def rows(self, what: str, total: int, close: bool, op: Callable[[requests.Session], object]) -> Row:
        def client(_: int) -> Callable[[], None]:
            http = self.session(close=close)

            def run() -> None:
                op(http)
                if close:  # a new connection for the next one (never one the server closed)
                    http.close()

            return run

        row = run_parallel(CLIENTS, total, client)
        row.what = f"FQM: {what}, {'Connection: close' if close else 'keep-alive'}"
        row.note = row.halves()
        return row

    def delete_tickets(self) -> None:
        """All its tickets but each task's first (number 100, which FQM numbers from)."""
        self.session(close=False).delete(f"{self.base}/api/v1/tickets/", timeout=60).raise_for_status()

    def trivial(self, http: requests.Session) -> None:
        if http.get(f"{self.base}{TRIVIAL}", allow_redirects=False, timeout=30).status_code != 302:
            raise RuntimeError(f"{TRIVIAL} did not redirect")

    def pull(self, http: requests.Session) -> None:
        answer = http.get(
            f"{self.base}/api/v1/tickets/pull", params={"office_id": self.office_id}, timeout=60
        )
        if answer.status_code != 200:
            raise RuntimeError(f"pull HTTP {answer.status_code}")


# --------------------------------------------------------------------------------------------
# The head-to-head


@dataclass
class Pair:
    """One operation measured on both, FQM both ways (the better one is its figure)."""

    ours: Row
    fqm: list[Row] = field(default_factory=list)

    def best(self) -> Row:
        return max(self.fqm, key=lambda row: row.rate)


@dataclass
class HeadToHead:
    rows: list[Row]
    healthz: Row
    trivial: Pair
    issue: Pair
    call: Pair
    ours_cpu: ServerCpu
    fqm_cpu: ServerCpu
    fqm_hall: str

    def summary(self) -> str:
        def figures(row: Row, cpu: float) -> str:
            return (
                f"{row.rate:.0f}/s, p50 {row.percentile_ms(50):.0f} ms, p99 {row.percentile_ms(99):.0f} ms, "
                f"CPU {cpu:.1f} ms/ticket"
            )

        def way(row: Row) -> str:
            return "close" if "close" in row.what else "keep-alive"

        trivial = self.trivial.best()
        lines = [
            f"Head-to-head, same run, {CLIENTS} clients (FQM: the better of keep-alive and close; "
            f"its pids {self.fqm_cpu.pids}, {self.fqm_hall}):",
            "| | ours | FQM | rate, ours / FQM |",
            "| --- | --- | --- | --: |",
            f"| trivial route | GET /healthz {self.healthz.rate:.0f}/s | GET {TRIVIAL} {trivial.rate:.0f}/s "
            f"({way(trivial)}) | {self.healthz.rate / trivial.rate:.2f} |",
        ]
        for name, ours_what, fqm_what, pair in (
            ("issue", "POST /api/v1/tickets", "POST /api/v1/tickets/", self.issue),
            ("call", "call-next + finish (2 requests)", "pull (1 request: call and finish)", self.call),
        ):
            row = pair.best()
            lines.append(
                f"| {name} | {ours_what} {figures(pair.ours, self.ours_cpu.of(pair.ours))} | {fqm_what} "
                f"{figures(row, self.fqm_cpu.of(row))} ({way(row)}) | {pair.ours.rate / row.rate:.2f} |"
            )
        return "\n".join(lines)


def head_to_head(
    args: argparse.Namespace,
    *,
    ours: list[Row],
    ours_cpu: ServerCpu,
    tickets: int,
    show: Callable[[Row], Row],
) -> HeadToHead:
    """FQM's rows, after ours in the same run; ``ours`` is /healthz, issue, call (CPU measured)."""
    fqm = Fqm.connect(args)
    if args.fqm_reset:
        fqm.delete_tickets()
    fqm_cpu = ServerCpu(args.fqm_pid or listening_pids(fqm.base))
    if not ours_cpu.pids or not fqm_cpu.pids:
        raise SystemExit(f"no server pid found (ours {ours_cpu.pids}, FQM {fqm_cpu.pids}): give --fqm-pid")
    healthz, issue, call = ours
    hall = "its tickets deleted first" if args.fqm_reset else "its tickets kept"
    result = HeadToHead([], healthz, Pair(healthz), Pair(issue), Pair(call), ours_cpu, fqm_cpu, hall)
    for what, total, pair, op in (
        (f"GET {TRIVIAL} (no database)", tickets * 5, result.trivial, fqm.trivial),
        ("POST /api/v1/tickets/", tickets, result.issue, fqm.issue),
        ("GET /api/v1/tickets/pull", tickets, result.call, fqm.pull),
    ):
        for close in (False, True):
            row = show(fqm_cpu(lambda: fqm.rows(what, total, close, op)))  # noqa: B023
            pair.fqm.append(row)
            result.rows.append(row)
    return result
