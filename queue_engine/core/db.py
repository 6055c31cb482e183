"""Database set-up that the queue's guarantees depend on."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any
from weakref import WeakSet

from sqlalchemy import Connection, Engine, create_engine, event

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Every engine of the app, the CLI and the simulator: a failed statement is logged without its
# parameters, which hold visitors' names, contacts and descriptions (personal data, §13).
# pool_pre_ping: a connection the database dropped (a restart) is noticed and replaced before
# use, so that the first request of each process after a restart succeeds.
ENGINE_OPTIONS: dict[str, Any] = {"hide_parameters": True, "pool_pre_ping": True}
READ_ONLY_OPTION = "qms_read_only"
_configured: WeakSet[Engine] = WeakSet()
_read_only: ContextVar[bool] = ContextVar("qms_read_only", default=False)
_log = logging.getLogger(__name__)
# How often a writer waiting its turn looks whether the holder's transaction is still open.
LEFT_TURN_CHECK_S = 1.0


class WriterQueue:
    """The writers of one SQLite file in this process, let in one at a time, first come first served.

    SQLite has one write lock and no queue for it: a writer that finds it taken sleeps in the
    busy handler (1, 2, 5, 10 ... 100 ms) and may wake long after the lock came free, or lose it
    again to a newcomer, so with a few threads writing at once the tail is the sleeps, not the
    work.  Taken before ``BEGIN IMMEDIATE`` and given up once the transaction has ended, this
    queue hands the lock from one of the process's writers to the next without a sleep.  It only
    orders; SQLite's lock still guards the data: a writer of another process (the CLI) still waits
    in the busy handler, and a writer that waited the busy timeout here goes on without its turn.
    A thread that already holds the turn through another connection does not wait for itself: its
    second writer goes on without a turn, to the busy handler, as before the queue.  A turn left
    behind (its holder's transaction over, the turn not given up) is taken by the next writer
    within ``LEFT_TURN_CHECK_S``, with a warning, instead of holding every writer for the timeout.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._holder: object | None = None
        self._holder_thread: int | None = None
        self._waiting: deque[tuple[threading.Lock, object]] = deque()

    def enter(self, owner: object, timeout_s: float) -> bool:
        """Wait for ``owner``'s turn (True), or give up after ``timeout_s`` (False)."""
        thread = threading.get_ident()
        with self._mutex:
            if self._holder is None:
                self._holder, self._holder_thread = owner, thread
                return True
            if self._holder_thread == thread:
                return False
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append((turn, owner))
        deadline = time.monotonic() + timeout_s
        while not turn.acquire(timeout=max(min(LEFT_TURN_CHECK_S, deadline - time.monotonic()), 0)):
            with self._mutex:
                if (turn, owner) not in self._waiting:
                    break  # handed the turn just as the wait ended
                if time.monotonic() >= deadline:
                    self._waiting.remove((turn, owner))
                    return False
                if self._waiting[0][1] is owner and not _in_transaction(self._holder):
                    # The holder's transaction ended without giving up its turn (a path the
                    # hooks below missed): take it rather than hold every writer for the
                    # timeout. SQLite's own lock still guards the data if that was wrong.
                    _log.warning("SQLite writer queue: a turn was left behind; the next writer took it")
                    self._waiting.popleft()
                    self._holder = owner
                    break
        with self._mutex:
            self._holder_thread = thread
        return True

    def leave(self, owner: object) -> None:
        """``owner``'s transaction ended: the next writer's turn (nothing when it held none)."""
        with self._mutex:
            if self._holder is not owner:
                return
            self._holder_thread = None  # the next holder's thread notes itself once it wakes
            if self._waiting:
                turn, self._holder = self._waiting.popleft()
                turn.release()
            else:
                self._holder = None


def _in_transaction(connection: object) -> bool:
    """Whether a holder (a sqlite3 connection) is inside a transaction (True when unknown)."""
    return bool(getattr(connection, "in_transaction", True))


_writer_queues: dict[str, WriterQueue] = {}
_writer_queues_mutex = threading.Lock()


def writer_queue(path: str) -> WriterQueue:
    """This process's queue of writers to one SQLite file (every engine on the file shares it)."""
    key = os.path.realpath(path)
    with _writer_queues_mutex:
        return _writer_queues.setdefault(key, WriterQueue())


def configure_engine(engine: Engine) -> Engine:
    """Make an engine safe for the queue: on SQLite, WAL + busy timeout + BEGIN IMMEDIATE.

    SQLite's default deferred transactions let two writers read the same "last number" and
    then fail or collide when they write; beginning every transaction IMMEDIATE serialises
    number allocation and call-next; the process's writers to one file queue for it in
    ``WriterQueue`` instead of sleeping in the busy handler.  Read-only work (``reading``,
    ``read_only``: every GET, every screen's snapshot) begins DEFERRED instead and reads
    beside the writer (WAL), from one snapshot of the database.  On PostgreSQL the engine
    locks rows; read-only work runs at REPEATABLE READ there, so that it too reads one
    snapshot: at READ COMMITTED a later statement of the same screen could see a row an
    earlier one loaded as it was before (a ticket called in between), and the session would
    hand back the older copy.
    """
    if engine in _configured:
        return engine
    _configured.add(engine)
    if engine.dialect.name == "postgresql":
        _snapshot_reads(engine)
        return engine
    if engine.dialect.name != "sqlite":
        return engine

    database = engine.url.database
    writers = writer_queue(database) if database not in (None, "", ":memory:") else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN, instead of pysqlite's own deferred one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A connection marked read-only (``reading``) never takes the write lock: WAL lets it
        # read beside the one writer, so a look that runs every second delays no request.
        deferred = connection.get_execution_options().get(READ_ONLY_OPTION) or _read_only.get()
        if deferred:
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        if writers is None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        owner = connection.connection.dbapi_connection
        writers.enter(owner, SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            if greenlets():
                _begin_immediate_cooperatively(owner)
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.leave(owner)
            raise

    if writers is not None:
        _leave_when_transactions_end(engine, writers)
    return engine


def greenlets() -> bool:
    """Whether this process runs as greenlets: gevent patched its standard library (``time`` too,
    so that ``time.sleep`` lets the other greenlets run)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("time"))


def _begin_immediate_cooperatively(dbapi_connection: Any) -> None:
    """``BEGIN IMMEDIATE`` that, while another process holds the write lock, waits in Python.

    SQLite's busy handler sleeps in C: under gevent it would stop every greenlet of the process
    (every socket, every read) for as long as another process (the command line) writes, and the
    process's own writers met no busy handler anyway (they queue in ``WriterQueue``).  So the
    handler is off for this one statement and the retries sleep with ``time.sleep``, which the
    patched process turns into a greenlet's wait, up to the same busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause_s = 0.001
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if (error.sqlite_errorcode & 0xFF) != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(pause_s)
            pause_s = min(pause_s * 2, 0.05)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def _leave_when_transactions_end(engine: Engine, writers: WriterQueue) -> None:
    """A connection's turn in the writer queue ends with its transaction, however it ends.

    SQLAlchemy's "commit" and "rollback" events come before the database's own COMMIT, so the
    turn is given up in the dialect's ``do_commit`` / ``do_rollback`` once they have returned
    (these also end a transaction the pool resets), and when a connection is closed or
    invalidated (a lost connection rolls back with it).
    """
    dialect = engine.dialect

    def after(step: Callable[[Any], None]) -> Callable[[Any], None]:
        def ended(pooled: Any) -> None:
            try:
                step(pooled)
            finally:
                writers.leave(getattr(pooled, "dbapi_connection", pooled))

        return ended

    # An instance attribute: this engine's dialect only (every engine has its own).
    dialect.do_commit = after(dialect.do_commit)  # type: ignore[method-assign,assignment]
    dialect.do_rollback = after(dialect.do_rollback)  # type: ignore[method-assign,assignment]

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _error: Any) -> None:
        writers.leave(dbapi_connection)

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection: Any, _record: Any) -> None:
        writers.leave(dbapi_connection)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reading only (on SQLite a deferred transaction, without the write lock)."""
    with engine.connect() as connection:
        yield connection.execution_options(**{READ_ONLY_OPTION: True})


def _snapshot_reads(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION) or _read_only.get():
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def begin_read_only() -> Token[bool]:
    """From here on, this thread's (context's) transactions only read: on SQLite, BEGIN DEFERRED.

    For read-only work as a whole (a GET request, a screen's snapshot, the publisher): it never
    waits for the write lock.  Undo with ``end_read_only(token)``.  A transaction that writes
    must not begin inside it: its write would fail when another writer committed meanwhile.
    """
    return _read_only.set(True)


def end_read_only(token: Token[bool]) -> None:
    """Transactions begun from here on take the write lock again (SQLite: BEGIN IMMEDIATE)."""
    _read_only.reset(token)


@contextmanager
def read_only() -> Iterator[None]:
    """Inside the block, transactions begun only read (see ``begin_read_only``)."""
    token = begin_read_only()
    try:
        yield
    finally:
        end_read_only(token)


def sqlalchemy_url(url: str) -> str:
    """A database URL as SQLAlchemy takes it: ``postgresql://`` means the psycopg (3) driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine for a database URL, configured for the queue."""
    return configure_engine(create_engine(sqlalchemy_url(url), **{**ENGINE_OPTIONS, **options}))
