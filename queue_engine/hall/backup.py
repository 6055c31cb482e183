"""Backups of the hall's database while it runs, and restoring one (DESIGN §13).

SQLite is copied with its online backup API: the copy is one consistent snapshot, taken page by
page beside the writers (WAL), so the hall never stops. PostgreSQL is copied by ``pg_dump -Fc``,
which reads one snapshot too. A restore checks the copy first (it opens, its schema revision is
the application's, SQLite's ``integrity_check`` passes) and refuses a database that holds a
hall's tickets of today unless forced: replacing a running hall's queue loses its visitors.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import URL, Engine, func, inspect, make_url, select

from queue_engine.core.errors import QueueError
from queue_engine.core.models import Ticket

PG_TIMEOUT_S = 3600


class BackupFailed(QueueError):
    """The copy could not be made or read; nothing was replaced."""

    code = "backup_failed"


class HallRunning(QueueError):
    """The database holds tickets of today: restoring over it would lose the day's queue."""

    code = "hall_running"


@dataclass(frozen=True)
class BackupCopy:
    """What a backup file holds: its kind, schema revision and size."""

    path: Path
    kind: str  # "sqlite" or "postgresql"
    revision: str | None
    size: int


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupFailed("An in-memory SQLite database has nothing to back up.")
    return Path(url.database)


def libpq_url(url: URL) -> str:
    """The URL as pg_dump and pg_restore read it (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(args: list[str]) -> str:
    if shutil.which(args[0]) is None:
        raise BackupFailed(f"{args[0]} is not installed on this machine.")
    done = subprocess.run(args, capture_output=True, text=True, timeout=PG_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise BackupFailed(f"{args[0]} failed: {done.stderr.strip()[:2000]}")
    return done.stdout


def back_up(database_url: str, target: Path) -> BackupCopy:
    """Copy the database at ``database_url`` into ``target`` while the hall runs."""
    url = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # one consistent snapshot, writers go on meanwhile
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        except sqlite3.Error as error:
            raise BackupFailed(f"SQLite backup failed: {error}") from error
        finally:
            copy.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={libpq_url(url)}"])
    else:
        raise BackupFailed(f"No backup for {url.get_backend_name()} databases.")
    partial.replace(target)  # a half-written file never carries the name asked for
    return read_copy(target)


def _is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def read_copy(path: Path) -> BackupCopy:
    """Open a backup and check it: readable, SQLite's integrity_check; its schema revision."""
    if not path.is_file():
        raise BackupFailed(f"No backup file at {path}.")
    if _is_sqlite_file(path):
        try:
            copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                (check,) = copy.execute("PRAGMA integrity_check").fetchone()
                if check != "ok":
                    raise BackupFailed(f"The copy is damaged: {check}")
                row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
            finally:
                copy.close()
        except sqlite3.Error as error:
            raise BackupFailed(f"The copy cannot be read: {error}") from error
        return BackupCopy(path, "sqlite", row[0] if row else None, path.stat().st_size)
    _run(["pg_restore", "--list", str(path)])  # the archive's table of contents reads whole
    data = _run(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path)])
    match = re.search(r"^COPY [^\n]*alembic_version[^\n]*FROM stdin;\n([^\n\\]+)\n", data, re.MULTILINE)
    return BackupCopy(path, "postgresql", match.group(1).strip() if match else None, path.stat().st_size)


def tickets_today(engine: Engine, today: date) -> int:
    """How many tickets of ``today`` the database holds (0 for an empty database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(Ticket.__tablename__):
            return 0
        count = connection.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.business_date == today)
        )
    return int(count or 0)


def restore(engine: Engine, path: Path, *, head: str, today: date, force: bool = False) -> BackupCopy:
    """Replace the database behind ``engine`` by the backup at ``path``, after checking both.

    Refuses a copy whose schema revision is not ``head`` (the application's newest migration)
    and, unless ``force``, a database with tickets of ``today``. Nothing is replaced until the
    copy has passed its checks; on PostgreSQL the restore is one transaction.
    """
    copy = read_copy(path)
    kind = engine.dialect.name
    if copy.kind != kind:
        raise BackupFailed(f"The copy is a {copy.kind} backup; this database is {kind}.")
    if copy.revision != head:
        raise BackupFailed(f"The copy's schema revision is {copy.revision}; this application needs {head}.")
    waiting = tickets_today(engine, today)
    if waiting and not force:
        raise HallRunning(
            f"This database holds {waiting} tickets of {today.isoformat()}: a hall is running on it. "
            "Stop the hall, or restore with --force to replace them."
        )
    engine.dispose()  # the pool's connections would keep reading the old pages or tables
    if kind == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(engine.url), timeout=30)
        try:
            source.backup(target)  # page by page under the target's write lock: all or nothing
        except sqlite3.Error as error:
            raise BackupFailed(f"SQLite restore failed: {error}") from error
        finally:
            target.close()
            source.close()
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={libpq_url(engine.url)}",
                str(path),
            ]
        )
    return copy
