"""The engine under gevent (QMS_ASYNC_MODE=gevent): its writers and waits as greenlets.

In a process gevent has patched (``gevent_probe.py``, run as gunicorn's gevent worker runs the
app: patched first), kiosks issuing at once each get their own number, though each yields to
the others inside its write transaction; a kiosk that meets another process's write lock on
SQLite, or waits in the PostgreSQL server, does not stop the other greenlets from running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

PROBE = Path(__file__).with_name("gevent_probe.py")
ROOT = PROBE.parent.parent.parent


KIOSKS = 8  # as gevent_probe.py (never imported here: it patches the process it runs in)


def run_probe(url: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(PROBE), url],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_kiosks_issuing_at_once_as_greenlets_each_get_a_number(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # the probe creates the service it issues from (PostgreSQL: in the emptied tables)
    found = run_probe(url)
    assert found["numbers"] == [f"A{n:03d}" for n in range(1, KIOSKS + 1)]
    if url.startswith("postgresql"):
        assert found["handed_over"] is True
    else:
        assert found["after_another_process"] == f"A{KIOSKS + 1:03d}"
