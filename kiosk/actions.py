"""Running an engine action: commit, then publish what it changed; or roll back and say why not.

Every entry point that changes the queue or the hall's set-up goes through here::

    with action() as done:
        open_counter(db_session(), clock(), counter_id, staff_id)
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
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from flask import Flask, current_app, g, has_request_context, request

from kiosk.extensions import db, db_session
from kiosk.realtime import publish
from kiosk.refusals import staff_message
from queue_engine.core.db import begin_read_only, end_read_only
from queue_engine.core.errors import QueueError
from queue_engine.core.events import take_changes

Refusal = TypeVar("Refusal", bound=QueueError)
View = TypeVar("View")
WRITES_ON_GET = "qms_writes_on_get"
READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Done(Generic[Refusal]):
    """How an action ended: ``error`` is the refusal to show, None when it was committed."""

    error: Refusal | None = None

    @property
    def message(self) -> str:
        """The refusal's message in both languages, for a page (empty when the action was committed)."""
        return staff_message(self.error) if self.error else ""


def commit() -> None:
    """Commit the session's transaction, then publish the engine's noted changes.

    What the transaction loaded and wrote stays as committed, for the answer to read (it is
    what this request did) without loading every row again; the next transaction of the request,
    if any, starts with a rollback or a lock that reads them afresh (``_writes_again``, ``locked``).
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    except BaseException:
        session.rollback()  # a failed commit (a unique constraint, a lost connection) changes nothing
        raise
    finally:
        session.expire_on_commit = True
    changes = take_changes(db_session())
    try:
        publish(changes)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Publishing %d change(s) failed", len(changes))
    _answer_reads_only()


def _answer_reads_only() -> None:
    """After a request's commit, its answer only reads: it need not wait for the write lock again."""
    if has_request_context() and "qms_read_only" not in g:
        g.qms_read_only = begin_read_only()
        g.qms_after_commit = True


def _writes_again() -> None:
    """A second action in the same request: its transaction takes the write lock again."""
    if has_request_context() and g.pop("qms_after_commit", False):
        db.session.rollback()  # end the answer's read transaction, if one began
        end_read_only(g.pop("qms_read_only"))


@overload
def action() -> AbstractContextManager[Done[QueueError]]: ...
@overload
def action(refusal: type[Refusal], /, *more: type[Refusal]) -> AbstractContextManager[Done[Refusal]]: ...
def action(*refusals: type[QueueError]) -> AbstractContextManager[Done[Any]]:
    """Run the block as one action: commit and publish, or roll back (refusals are kept in ``Done``)."""
    return _action(refusals or (QueueError,))


@contextmanager
def _action(kept: tuple[type[QueueError], ...]) -> Iterator[Done[QueueError]]:
    done: Done[QueueError] = Done()
    _writes_again()
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


def writes_on_get(view: View) -> View:
    """Mark a GET view that writes (an audited read): its transaction takes the write lock.

    Every other GET request only reads, in a deferred transaction on SQLite (DESIGN §5), so it
    never waits for the writers; a write there would fail whenever another writer committed first.
    """
    setattr(view, WRITES_ON_GET, True)
    return view


def _reads_only() -> None:
    if request.method in READ_ONLY_METHODS:
        view = current_app.view_functions.get(request.endpoint or "")
        if not getattr(view, WRITES_ON_GET, False):
            g.qms_read_only = begin_read_only()


def _end_reads_only(_error: BaseException | None) -> None:
    token = g.pop("qms_read_only", None)
    if token is not None:
        end_read_only(token)


def init_app(app: Flask) -> None:
    """GET requests read in deferred transactions (registered first: before any hook reads)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _reads_only)
    app.teardown_request(_end_reads_only)
