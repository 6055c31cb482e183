"""The soak's server with a probe in it: ``gunicorn ... bench.soak_probe:app`` (benches only).

The app is ``kiosk.wsgi``'s.  On SIGUSR1 the worker appends one JSON line to the file named by
``QMS_SOAK_PROBE`` with what its memory holds, so that the soak can say which part of the
resident memory grew: glibc's heap (in use and free), SQLite's own allocations (its page caches
among them), the Python objects by type, the sizes of the per-socket tables (ours, python-socketio's
and python-engineio's), SQLAlchemy's compiled cache and pool.

Knobs, all read only here (the app itself never sees them):
``QMS_SOAK_TRACEMALLOC=N`` starts tracemalloc with N frames before the app is imported and dumps
a snapshot beside the probe file at every reading (``<file>.<label>.tracemalloc``), for
``tracemalloc.Snapshot.load`` and ``compare_to``; ``QMS_SOAK_SQLITE_CACHE_KIB=N`` sets
``PRAGMA cache_size = -N`` on every connection of the app's engine.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

_FRAMES = int(os.environ.get("QMS_SOAK_TRACEMALLOC") or 0)
if _FRAMES:
    tracemalloc.start(_FRAMES)

from sqlalchemy import event  # noqa: E402

from kiosk.extensions import db, socketio  # noqa: E402
from kiosk.wsgi import app  # noqa: E402

PROBE = os.environ.get("QMS_SOAK_PROBE")
_CACHE_KIB = int(os.environ.get("QMS_SOAK_SQLITE_CACHE_KIB") or 0)
_sqlite = ctypes.CDLL("libsqlite3.so.0")
_sqlite.sqlite3_memory_used.restype = ctypes.c_int64
_sqlite.sqlite3_memory_highwater.restype = ctypes.c_int64
_sqlite.sqlite3_memory_highwater.argtypes = [ctypes.c_int]


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks")
        + ("uordblks", "fordblks", "keepcost")
    ]


_libc = ctypes.CDLL("libc.so.6")
_libc.mallinfo2.restype = _MallInfo2

if _CACHE_KIB:
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _cache_size(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
            cursor.close()

        db.engine.dispose()  # a connection made while the app was built gets the pragma too


def _mib(n: float) -> float:
    return round(n / 2**20, 2)


def _status() -> dict[str, float]:
    lines = Path("/proc/self/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    keys = ("VmRSS", "RssAnon", "RssFile", "RssShmem")
    return {key: _mib(int(fields[key].split()[0]) * 1024) for key in keys}


def _anonymous() -> dict[str, Any]:
    """The resident anonymous memory by kind of mapping: thread stacks (8 MiB each), brk, the rest.

    The rest (glibc's thread arenas, pymalloc's 1 MiB arenas, ...) is also listed mapping by
    mapping (address: size and resident KiB), for comparing two readings.
    """
    rss = {"stacks": 0, "brk": 0, "other_anon": 0}
    stacks = 0
    kind, size, address = "", 0, ""
    mappings: dict[str, list[int]] = {}
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if not line[0].isupper():  # a mapping's first line: address perms offset dev inode [path]
            path = head[5] if len(head) > 5 else ""
            kind = "brk" if path == "[heap]" else ("anon" if not path else "")
            address = head[0].split("-")[0]
        elif head[0] == "Size:":
            size = int(head[1])
            if kind == "anon" and size == 8192:
                kind, stacks = "stacks", stacks + 1
        elif head[0] == "Rss:" and kind:
            rss["other_anon" if kind == "anon" else kind] += int(head[1]) * 1024
            if kind == "anon" and int(head[1]):
                mappings[address] = [size, int(head[1])]
    return {
        **{key: _mib(value) for key, value in rss.items()},
        "stack_mappings": stacks,
        "anon_mappings": mappings,
    }


def _pymalloc() -> dict[str, float | int]:
    """pymalloc's arenas: what sys._debugmallocstats writes to the C stderr, read back."""
    with tempfile.TemporaryFile() as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    found: dict[str, float | int] = {}
    for line in text.splitlines():
        name, _, value = line.rpartition("=")
        name = name.strip().lstrip("# ").strip()
        if name in WANTED_PYMALLOC:
            number = int(value.strip().replace(",", ""))
            found[WANTED_PYMALLOC[name]] = _mib(number) if name.startswith("bytes") else number
    return found


WANTED_PYMALLOC = {
    "bytes in allocated blocks": "pymalloc_allocated",
    "bytes in available blocks": "pymalloc_available",
    "arenas allocated current": "pymalloc_arenas",  # a count: 1 MiB each (Python 3.11)
    "bytes lost to pool headers": "pymalloc_pool_headers",
    "bytes lost to quantization": "pymalloc_quantization",
    "bytes lost to arena alignment": "pymalloc_alignment",
}


def _sizes(obj: Any, prefix: str) -> dict[str, int]:
    """The length of every dict, list or set attribute of an object (per-socket tables)."""
    found = {}
    for name, value in vars(obj).items():
        if isinstance(value, dict | list | set):
            found[f"{prefix}.{name}"] = len(value)
            if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
                found[f"{prefix}.{name}[*]"] = sum(len(v) for v in value.values())
    return found


def reading(label: str) -> dict[str, Any]:
    """What the worker's memory holds now."""
    info = _libc.mallinfo2()
    gc.collect()
    objects = gc.get_objects()
    by_type = Counter(type(o).__qualname__ for o in objects)
    found: dict[str, Any] = {
        "label": label,
        "time": time.time(),
        **_status(),
        "threads": threading.active_count(),
        "malloc_in_use": _mib(info.uordblks),
        "malloc_free": _mib(info.fordblks),
        "malloc_arena": _mib(info.arena),
        "malloc_mmap": _mib(info.hblkhd),
        "sqlite_used": _mib(_sqlite.sqlite3_memory_used()),
        "sqlite_highwater": _mib(_sqlite.sqlite3_memory_highwater(0)),
        **_anonymous(),
        "pymalloc_blocks": sys.getallocatedblocks(),
        **_pymalloc(),
        "gc_objects": len(objects),
        "types": dict(by_type.most_common(60)),
    }
    del objects
    server = getattr(socketio, "server", None)
    if server is not None:
        found |= _sizes(server, "sio") | _sizes(server.manager, "manager") | _sizes(server.eio, "eio")
    for key, value in app.extensions.items():
        if key.startswith("qms_") and value is not None and hasattr(value, "__dict__"):
            found |= _sizes(value, key)
    with app.app_context():
        engine = db.engine
        found["compiled_cache"] = len(engine._compiled_cache or {})
        found["pool"] = engine.pool.status()
        found["db_mib"] = _mib(os.path.getsize(engine.url.database or ""))
    if _FRAMES and PROBE:
        found["traced"], found["traced_peak"] = map(_mib, tracemalloc.get_traced_memory())
        tracemalloc.take_snapshot().dump(f"{PROBE}.{label}.tracemalloc")
    return found


def _on_signal(*_: Any) -> None:
    label = Path(f"{PROBE}.label").read_text().strip() if Path(f"{PROBE}.label").exists() else "?"
    line = json.dumps(reading(label))
    with open(f"{PROBE}", "a") as out:
        out.write(line + "\n")


if PROBE:
    signal.signal(signal.SIGUSR1, _on_signal)  # after gunicorn's own handlers (the app loads later)
