"""Database set-up that the queue's guarantees depend on."""

from __future__ import annotations

from collections.abc import Iterator
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


def configure_engine(engine: Engine) -> Engine:
    """Make an engine safe for the queue: on SQLite, WAL + busy timeout + BEGIN IMMEDIATE.

    SQLite's default deferred transactions let two writers read the same "last number" and
    then fail or collide when they write; beginning every transaction IMMEDIATE serialises
    number allocation and call-next.  Read-only work (``reading``, ``read_only``: every GET, every
    screen's snapshot) begins DEFERRED instead and reads beside the writer (WAL), from one
    snapshot of the database.  On PostgreSQL the engine locks rows; read-only work runs at
    REPEATABLE READ there, so that it too reads one snapshot: at READ COMMITTED a later
    statement of the same screen could see a row an earlier one loaded as it was before (a
    ticket called in between), and the session would hand back the older copy.
    """
    if engine in _configured:
        return engine
    _configured.add(engine)
    if engine.dialect.name == "postgresql":
        _snapshot_reads(engine)
        return engine
    if engine.dialect.name != "sqlite":
        return engine

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
        connection.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")

    return engine


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
