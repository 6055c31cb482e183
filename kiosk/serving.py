"""How a server process holds its sockets: the async mode and the gunicorn worker that matches it.

``threading``: gunicorn's gthread worker, one thread per open WebSocket.  ``gevent``: its gevent
worker, one greenlet per connection (no thread per socket), which has patched the standard
library before it imports the app.  ``make run``, ``deploy/run-two.sh``, the live tests
(``tests/live.py``) and the benches start the worker that ``QMS_ASYNC_MODE`` names.
"""

from __future__ import annotations

import sys
from typing import Literal

from flask import Flask


def monkey_patched() -> bool:
    """Whether gevent has patched this process's sockets (gunicorn's gevent worker does, first)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("socket"))


def socketio_mode(app: Flask) -> Literal["threading", "gevent"]:
    """The async mode Socket.IO runs in: the configured one where gevent patched the process,
    else threading (the command line, the tests' own apps, any process gevent did not patch,
    where a greenlet would never run and a real lock would stop the whole thread; a gevent
    server in such a process is refused by :func:`check_worker`)."""
    return "gevent" if app.config["QMS_ASYNC_MODE"] == "gevent" and monkey_patched() else "threading"


def check_worker(app: Flask) -> None:
    """Refuse a gevent app in a worker that did not patch the standard library (it would hang)."""
    if app.config["QMS_ASYNC_MODE"] == "gevent" and not monkey_patched():
        raise RuntimeError(
            "QMS_ASYNC_MODE=gevent needs gunicorn's gevent worker (--worker-class gevent), "
            "which patches the standard library before the app is imported"
        )
