"""Soak: 1,000 board and phone sockets held through a compressed 8-hour day of calls.

    PYTHONPATH=$PWD .venv/bin/python bench/soak.py [--sockets 1000] [--hours 8] [--hour-s 5]

A real gunicorn server (tests/live.py) on a fresh SQLite file; half the sockets are boards
(room "display"), half phones (a ticket's room).  Each simulated hour the clerks take and call
tickets; the worker's RSS, threads, open database files and open fds are printed every hour.
Flat figures mean no leak.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from pathlib import Path

import requests
import socketio  # type: ignore[import-untyped]

from tests.live import live_server, server_env


def worker_pid(master: int) -> int:
    """The gunicorn worker: the master's child."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0]) if children else master


def figures(pid: int, database: str) -> dict[str, int]:
    """RSS (MiB), threads, open database files (SQLite connections) and open fds of a process."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    fds = list(Path(f"/proc/{pid}/fd").iterdir())
    targets = []
    for fd in fds:
        try:
            targets.append(os.readlink(fd))
        except OSError:
            pass
    return {
        "rss_mib": int(status["VmRSS"].split()[0]) // 1024,
        "threads": int(status["Threads"]),
        "db_files": sum(1 for t in targets if t == database),
        "fds": len(targets),
    }


async def hold(url: str, room: dict[str, str], held: list[socketio.AsyncClient]) -> None:
    client = socketio.AsyncClient(reconnection=True)
    await client.connect(url, transports=["websocket"], wait_timeout=30)
    await client.emit("join", room)
    held.append(client)


def calls(url: str, headers: dict[str, str], n: int) -> None:
    for _ in range(n):
        requests.post(f"{url}/api/v1/tickets", json={"service": "A"}, timeout=30)
        answer = requests.post(f"{url}/api/v1/counters/1/call-next", json={}, headers=headers, timeout=30)
        if answer.status_code == 200:
            token = answer.json()["ticket"]["token"]
            requests.post(
                f"{url}/api/v1/tickets/{token}/finish",
                json={"outcome": "resolved"},
                headers=headers,
                timeout=30,
            )


async def main(args: argparse.Namespace) -> None:
    database = str(Path(tempfile.mkdtemp(prefix="qms-soak-")) / "qms.sqlite3")
    env = server_env(f"sqlite:///{database}", QMS_SOCKETS_PER_ADDRESS=str(args.sockets + 100))
    with live_server(env) as server:
        clerk = server.token("clerk1")
        tokens = [
            requests.post(f"{server.url}/api/v1/tickets", json={"service": "B"}, timeout=30).json()["token"]
            for _ in range(args.sockets // 2)
        ]
        rooms = [{"room": "display"}] * (args.sockets - len(tokens)) + [
            {"room": "ticket", "token": t} for t in tokens
        ]
        held: list[socketio.AsyncClient] = []
        for start in range(0, len(rooms), 50):
            await asyncio.gather(*(hold(server.url, r, held) for r in rooms[start : start + 50]))
        pid = worker_pid(server.process.pid)
        print(f"hour  sockets  rss_mib  threads  db_files  fds   (worker {pid})")
        print(f"{0:>4}  {len(held):>7}  " + "  ".join(f"{v:>7}" for v in figures(pid, database).values()))
        for hour in range(1, args.hours + 1):
            began = time.monotonic()
            worker = threading.Thread(target=calls, args=(server.url, clerk, args.calls_per_hour))
            worker.start()
            while worker.is_alive():
                await asyncio.sleep(0.2)
            await asyncio.sleep(max(0.0, args.hour_s - (time.monotonic() - began)))
            connected = sum(1 for c in held if c.connected)
            print(
                f"{hour:>4}  {connected:>7}  " + "  ".join(f"{v:>7}" for v in figures(pid, database).values())
            )
        await asyncio.gather(*(c.disconnect() for c in held))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=8)
    parser.add_argument("--hour-s", type=float, default=5.0, help="seconds of one simulated hour")
    parser.add_argument("--calls-per-hour", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
