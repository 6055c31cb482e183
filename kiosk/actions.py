"""Running an engine action: commit, then publish what it changed; or roll back and say why not.

Every entry point that changes the queue or the hall's set-up goes through here::

    with action() as done:
        open_counter(db.session, clock(), counter_id, staff_id)
    if done.error:
        flash(done.error.message)

A refused action (a ``QueueError``, or the narrower kinds given to ``action``) is rolled back and
handed to the caller to show; any other exception is rolled back and raised (the API lets
``QueueError`` through to ``kiosk.errors``, which rolls back and answers JSON).  A committed
change is done: a failure to publish it is logged, never turned into an error answer (clients
would retry and take a second ticket), and screens heal on reconnect.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app

from kiosk.extensions import db
from kiosk.realtime import publish
from queue_engine.core.errors import QueueError
from queue_engine.core.events import take_changes


@dataclass
class Done:
    """How an action ended: ``error`` is the refusal to show, None when it was committed."""

    error: QueueError | None = None

    @property
    def message(self) -> str:
        """The refusal's message (empty when the action was committed)."""
        return self.error.message if self.error else ""


def commit() -> None:
    """Commit the session's transaction, then publish the engine's noted changes."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()  # a failed commit (a unique constraint, a lost connection) changes nothing
        raise
    changes = take_changes(db.session)
    try:
        publish(changes)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Publishing %d change(s) failed", len(changes))


@contextmanager
def action(*refusals: type[QueueError]) -> Iterator[Done]:
    """Run the block as one action: commit and publish, or roll back (refusals are kept in ``Done``)."""
    done = Done()
    kept = refusals or (QueueError,)
    try:
        yield done
    except kept as error:
        db.session.rollback()
        done.error = error
        return
    except BaseException:
        db.session.rollback()
        raise
    commit()
