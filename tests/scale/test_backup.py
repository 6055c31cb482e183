"""Backups while the hall runs (DESIGN §13): ``flask backup`` beside a real server that is issuing
tickets from several threads, then ``flask restore`` into an empty database.

The copy must be one moment of the hall: every ticket answered 201 before the backup began is in
it, numbering has no gap within it, each service's counter of numbers matches its last ticket,
and every ticket has its issue event. The restored database equals the copy row by row (SQLite:
compared with the backup file itself), and the tables issuing does not touch equal the source.
"""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.live import ROOT, live_server, server_env
from tests.services import postgres_url

pytestmark = pytest.mark.slow
ISSUING = {"tickets", "ticket_events", "service_day_sequences", "audit_log"}


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a Flask CLI command with that environment (its answer, whatever the exit code)."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "kiosk", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A source and an empty target database of the same kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hall.sqlite3'}", f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    base, why = postgres_url()
    if base is None:
        pytest.skip(why)
    names = [f"qms_data_{secrets.token_hex(4)}_{side}" for side in ("src", "dst")]
    admin = sa.create_engine(sa.make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        source, target = (sa.make_url(base).set(database=name) for name in names)
        yield source.render_as_string(hide_password=False), target.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the database, sorted."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        rows = {
            name: sorted((tuple(row) for row in connection.execute(table.select())), key=repr)
            for name, table in metadata.tables.items()
        }
    engine.dispose()
    return rows


def issue_until(url: str, stop: threading.Event, answered: list[str]) -> None:
    """Take tickets until told to stop; record the number of each answered 201."""
    services = ["A", "B"]
    with requests.Session() as http:
        while not stop.is_set():
            service = services[len(answered) % 2]
            answer = http.post(f"{url}/api/v1/tickets", json={"service": service}, timeout=30)
            assert answer.status_code == 201, answer.text
            answered.append(answer.json()["token"])


def test_a_backup_taken_while_tickets_are_issued_restores_into_an_empty_database(two_databases, tmp_path):
    source_url, target_url = two_databases
    backup = tmp_path / "hall.backup"
    with live_server(server_env(source_url)) as server:
        stop = threading.Event()
        answered: list[list[str]] = [[] for _ in range(4)]
        threads = [threading.Thread(target=issue_until, args=(server.url, stop, a)) for a in answered]
        for thread in threads:
            thread.start()
        try:
            while sum(map(len, answered)) < 40:
                threading.Event().wait(0.05)
            before = {token for tokens in answered for token in tokens}
            made = flask(server.env, "backup", str(backup))
            during = sum(map(len, answered))
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert made.returncode == 0, made.stderr
        assert "Backup written" in made.stdout
        after = sum(map(len, answered))
        assert after > during  # the hall went on issuing while, and after, the copy was made

        # The running hall's database is refused, the copy untouched.
        refused = flask(server.env, "restore", str(backup))
        assert refused.returncode != 0
        assert "tickets of" in refused.stderr

    target_env = server_env(target_url)
    restored = flask(target_env, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    copy = every_row(target_url)
    source = every_row(source_url)

    if source_url.startswith("sqlite"):
        assert copy == every_row(f"sqlite:///{backup}")
    for table in source.keys() - ISSUING:
        assert copy[table] == source[table], table
    engine = sa.create_engine(target_url)
    with engine.connect() as connection:
        tickets = connection.execute(
            sa.text("SELECT id, token, service_id, business_date, series, sequence FROM tickets")
        ).all()
        last = {
            (row.service_id, str(row.business_date), row.series): row.last_sequence
            for row in connection.execute(sa.text("SELECT * FROM service_day_sequences"))
        }
        issued_events = set(
            connection.scalars(sa.text("SELECT ticket_id FROM ticket_events WHERE type = 'issued'"))
        )
    engine.dispose()
    assert before <= {row.token for row in tickets}  # every ticket answered before the backup
    assert 40 <= len(tickets) < after
    numbers: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for row in tickets:
        numbers[(row.service_id, str(row.business_date), row.series)].append(row.sequence)
    for key, sequences in numbers.items():
        assert sorted(sequences) == list(range(1, len(sequences) + 1)), key  # no gap, none twice
        assert last[key] == len(sequences), key
    assert {row.id for row in tickets} == issued_events
    source_tickets = {row[1]: row for row in source["tickets"]}
    for row in copy["tickets"]:
        assert source_tickets[row[1]] == row  # the same row as the hall wrote it


def test_restore_refuses_a_damaged_copy_and_changes_nothing(tmp_path):
    database = tmp_path / "hall.sqlite3"
    env = server_env(f"sqlite:///{database}")
    assert flask(env, "init-db").returncode == 0
    before = every_row(f"sqlite:///{database}")
    damaged = tmp_path / "damaged.sqlite3"
    good = tmp_path / "good.sqlite3"
    assert flask(env, "backup", str(good)).returncode == 0
    data = bytearray(good.read_bytes())
    data[4096 : 4096 + 2048] = b"\xff" * 2048  # a page of the copy overwritten
    damaged.write_bytes(bytes(data))
    old = tmp_path / "old.sqlite3"
    connection = sqlite3.connect(good)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    connection.close()
    good.replace(old)

    for copy, why in ((damaged, ""), (old, "schema revision is 0001")):
        answer = flask(env, "restore", str(copy))
        assert answer.returncode != 0, copy
        assert why in answer.stderr
    assert every_row(f"sqlite:///{database}") == before
