"""The process's publisher: publishing off the request path (DESIGN §6).

A request commits and hands its changes here (``hand``) and returns; the publisher's one thread
takes whatever arrived within ``COALESCE_S``, has it built once per room and emitted
(``kiosk.realtime.emit_changes``), in the order the changes were handed in.  ``flush`` waits
until everything handed in so far has gone out (tests, and a process about to exit).

The thread starts with the first change handed in, so a process that publishes nothing (a
gunicorn master, the command line) never runs one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

PUBLISHER = "qms_publisher"
COALESCE_S = 0.005  # how long the publisher waits for more changes before building

Changes = list[dict[str, Any]]


@dataclass
class Publisher:
    """Changes waiting to go out, and the thread that sends them."""

    app: Flask
    send: Callable[[Changes], None]  # builds and emits one coalesced batch (inside an app context)
    start: Callable[[Callable[[], None]], Any]  # starts a background task (Socket.IO's, for gevent)
    pending: Changes = field(default_factory=list)
    handed: int = 0  # hand() calls so far
    sent: int = 0  # hand() calls whose changes have gone out
    stopping: bool = False
    thread: Any = None
    condition: threading.Condition = field(default_factory=threading.Condition)

    def hand(self, changes: Changes) -> None:
        """Queue committed changes for the screens; returns at once."""
        with self.condition:
            self.pending.extend(changes)
            self.handed += 1
            if self.thread is None:
                self.thread = self.start(self._run)
            self.condition.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every change handed in so far has been emitted; False on timeout."""
        with self.condition:
            target = self.handed
            return self.condition.wait_for(lambda: self.sent >= target or self.thread is None, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Send what is pending and end the thread."""
        with self.condition:
            self.stopping = True
            thread = self.thread
            self.condition.notify_all()
        if thread is not None and hasattr(thread, "join"):
            thread.join(timeout)

    def _take(self) -> tuple[Changes, int] | None:
        with self.condition:
            self.condition.wait_for(lambda: self.pending or self.stopping)
            if not self.pending:
                self.thread = None
                self.condition.notify_all()
                return None
        time.sleep(COALESCE_S)  # let the changes of the requests running now join this batch
        with self.condition:
            batch, self.pending = self.pending, []
            return batch, self.handed

    def _run(self) -> None:
        while (taken := self._take()) is not None:
            batch, upto = taken
            try:
                with self.app.app_context():
                    self.send(batch)
            except Exception:
                self.app.logger.exception("Publishing %d change(s) failed", len(batch))
            finally:
                with self.condition:
                    self.sent = max(self.sent, upto)
                    self.condition.notify_all()


def publisher(app: Flask, send: Callable[[Changes], None], start: Callable[..., Any]) -> Publisher:
    """The app's publisher in this process (made on first use)."""
    found: Publisher | None = app.extensions.get(PUBLISHER)
    if found is None:
        with _making:
            found = app.extensions.get(PUBLISHER)
            if found is None:
                found = app.extensions[PUBLISHER] = Publisher(app, send, start)
    return found


_making = threading.Lock()
