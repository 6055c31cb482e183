"""Migrations: a database of release 0.1 (made by that release's own code, tests/fixtures/) and an
empty one both reach the newest schema through `flask init-db`, on SQLite and PostgreSQL.

The newest schema is the models' (``Base.metadata``): the same as ``create_all`` makes, down to
the partial unique index that keeps a counter from holding two tickets, and Alembic's
autogenerate finds nothing to add (what CI's ``flask db check`` asks).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.orm import Session

from kiosk import MIGRATIONS, create_app
from kiosk.extensions import db
from queue_engine import FakeClock, open_counter, resume_counter
from queue_engine.core.db import make_engine
from queue_engine.core.models import Base, Counter, CounterPause, User
from tests.services import fresh_schema

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
RELEASE_TABLES = {
    *("audit_log", "complaints", "counter_services", "counter_sessions", "counters", "hall", "kiosk_devices"),
    *("rectification_cases", "report_cells", "report_days", "report_months", "service_day_sequences"),
    *("services", "ticket_events", "tickets", "user_counters", "users", "visits"),
}


@pytest.fixture
def clock() -> FakeClock:
    """Monday 12 January 2026, 10:00 in the hall: the second day of the release's fixture."""
    return FakeClock(tz=ZoneInfo("Asia/Shanghai"), current=datetime(2026, 1, 12, 2, 0, tzinfo=UTC))


@pytest.fixture
def make_app(clock: FakeClock) -> Iterator[Callable[[str], Flask]]:
    """Apps on given database URLs (no tables made for them: that is init-db's job)."""
    built: list[Flask] = []

    def make(url: str) -> Flask:
        application = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret",
                "SQLALCHEMY_DATABASE_URI": url,
                "QMS_CLOCK": clock,
                "QMS_TICKET_RATE_LIMIT": "0",
            }
        )
        built.append(application)
        return application

    yield make
    for application in built:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def release_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database as release 0.1 left it: a copy of its SQLite file, or its dump in a fresh schema."""
    if request.param == "sqlite":
        copy = tmp_path / "release-0.1.sqlite3"
        shutil.copyfile(FIXTURES / "release-0.1.sqlite3", copy)
        yield f"sqlite:///{copy}"
        return
    with fresh_schema(request.getfixturevalue("postgres_base_url")) as url:
        run_sql(url, (FIXTURES / "release-0.1.postgres.sql").read_text(encoding="utf-8"))
        yield url


def run_sql(url: str, script: str) -> None:
    """Run a script of several statements (a plain-SQL dump) on a database."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "sqlite":
            raw.driver_connection.executescript(script)  # type: ignore[union-attr]
        else:
            raw.cursor().execute(script)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def every_row(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the database, as stored (reflected, not through the models)."""
    engine = make_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted((dict(row._mapping) for row in connection.execute(table.select())), key=repr)
                for name, table in metadata.tables.items()
                if name != "alembic_version"
            }
    finally:
        engine.dispose()


def assert_kept(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> None:
    """Every table and row of ``before`` is in ``after``, each value as it was.

    Later migrations may add tables and columns (with their defaults); nothing may change or go.
    """
    assert set(before) <= set(after)
    for name, rows in before.items():
        columns = list(rows[0]) if rows else []
        kept = sorted(({c: row[c] for c in columns} for row in after[name]), key=repr)
        assert kept == rows, f"the rows of {name} changed"


def schema_of(url: str) -> dict[str, Any]:
    """Tables, columns (type, nullability, server default), keys, constraints and indexes.

    Constraint names are left out where the database makes them up: SQLite keeps none for
    unnamed constraints, and PostgreSQL's are the same whoever asked for them.
    """
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        tables: dict[str, Any] = {}
        for name in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
            indexes = {
                index["name"]: (
                    index["column_names"],
                    bool(index["unique"]),
                    condition(index.get("dialect_options", {}).get(f"{engine.dialect.name}_where")),
                )
                for index in inspector.get_indexes(name)
            }
            tables[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c["default"])
                    for c in inspector.get_columns(name)
                ],
                "primary key": inspector.get_pk_constraint(name)["constrained_columns"],
                "unique": sorted(sorted(u["column_names"]) for u in inspector.get_unique_constraints(name)),
                "foreign keys": sorted(
                    (fk["constrained_columns"], fk["referred_table"], fk["referred_columns"], fk["options"])
                    for fk in inspector.get_foreign_keys(name)
                ),
                "indexes": indexes,
            }
        return tables
    finally:
        engine.dispose()


def condition(where: Any) -> str | None:
    """A partial index's condition without casts and brackets: a PostgreSQL dump, loaded again,
    spells ``status IN ('called', 'serving')`` with its casts in other places."""
    if where is None:
        return None
    return re.sub(r"::[a-z ]+(\[\])?|[()\s]", "", str(where))


def create_all_schema(kind: str, tmp_path: Path, base_url: Callable[[], str]) -> dict[str, Any]:
    """The schema ``Base.metadata.create_all`` makes on an empty database of a kind."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'create-all.sqlite3'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return schema_of(url)
    with fresh_schema(base_url()) as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return schema_of(url)


def autogenerate_differences(application: Flask) -> list[Any]:
    """What `flask db migrate` would write: the models against the database (empty: in step)."""
    with application.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def revision_of(url: str) -> str | None:
    """The database's Alembic revision (None: no alembic_version)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def second_active_ticket_at_counter_3(url: str) -> None:
    """Put the waiting ticket on counter 3, which already holds B001 (called)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE tickets SET status = 'called', counter_id = 3 WHERE status = 'waiting'")
            )
    finally:
        engine.dispose()


def kind_of(url: str) -> str:
    """'sqlite' or 'postgresql'."""
    return "sqlite" if url.startswith("sqlite") else "postgresql"


# -- a database of release 0.1 ------------------------------------------------------------------


def test_the_release_fixture_holds_a_worked_day_in_every_table(release_url):
    rows = every_row(release_url)

    assert revision_of(release_url) is None, "release 0.1 had no migrations"
    assert set(rows) == RELEASE_TABLES
    assert [name for name, table_rows in rows.items() if not table_rows] == []


def test_init_db_brings_a_release_database_to_head_keeping_every_row(
    release_url, make_app, tmp_path, request
):
    before = every_row(release_url)
    application = make_app(release_url)

    result = application.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert "made before migrations" in result.output
    assert f"schema revision {HEAD}" in result.output
    assert revision_of(release_url) == HEAD
    assert_kept(before, every_row(release_url))
    kind = kind_of(release_url)
    assert schema_of(release_url) == create_all_schema(
        kind, tmp_path, lambda: request.getfixturevalue("postgres_base_url")
    )
    assert autogenerate_differences(application) == []
    with pytest.raises(sa.exc.IntegrityError):
        second_active_ticket_at_counter_3(release_url)


def test_the_upgraded_release_hall_goes_on_working(release_url, make_app):
    application = make_app(release_url)
    runner = application.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    client = application.test_client()
    token = runner.invoke(args=["issue-token", "clerk1"]).output.splitlines()[-1]
    clerk1 = {"Authorization": f"Bearer {token}"}

    called = client.post("/api/v1/counters/1/call-next", headers=clerk1)
    taken = client.post("/api/v1/tickets", json={"service": "A"})

    assert called.status_code == 200, called.get_json()
    assert called.get_json()["ticket"]["number"] == "A002", "the visitor left waiting by release 0.1"
    assert taken.status_code == 201 and taken.get_json()["number"] == "A003"
    board = client.get("/api/v1/display").get_json()
    assert "B001" in json.dumps(board), "counter 3 still holds the ticket it called before the upgrade"
    services = client.get("/api/v1/services").get_json()
    assert [s["code"] for s in services] == ["A", "B", "C", "D"]


def test_init_db_twice_changes_nothing_the_second_time(release_url, make_app):
    application = make_app(release_url)
    runner = application.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    rows, schema = every_row(release_url), schema_of(release_url)

    again = runner.invoke(args=["init-db"])

    assert again.exit_code == 0, again.output
    assert "made before migrations" not in again.output
    assert "Upgraded" not in again.output
    assert (every_row(release_url), schema_of(release_url)) == (rows, schema)


def test_flask_db_check_and_upgrade_see_a_release_database_through(release_url, make_app):
    application = make_app(release_url)
    runner = application.test_cli_runner()

    assert runner.invoke(args=["db", "check"]).exit_code != 0, "not at head before the upgrade"
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert revision_of(release_url) == HEAD
    assert runner.invoke(args=["db", "check"]).exit_code == 0


# -- older halls: what create_all never added to an existing table --------------------------------


def make_older(url: str) -> None:
    """Take from a release database what halls that started on earlier commits never got.

    Their tables were made before the active-counter index, the request key's uniqueness, the
    report index's third column, a foreign key and two columns existed (add_missing_columns then
    added columns, never indexes or constraints).
    """
    if kind_of(url) == "postgresql":
        run_sql(
            url,
            """
            DROP INDEX ux_tickets_active_counter;
            ALTER TABLE tickets DROP CONSTRAINT tickets_request_key_key;
            ALTER TABLE tickets DROP CONSTRAINT tickets_transferred_from_id_fkey;
            DROP INDEX ix_report_cells_day;
            CREATE INDEX ix_report_cells_day ON report_cells (business_date, service_id);
            ALTER TABLE hall DROP COLUMN day_close_delay_min;
            ALTER TABLE visits DROP COLUMN follow_up_done_at;
            """,
        )
        return
    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    (tickets,) = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'tickets'").fetchone()
    older = re.sub(r",\s*UNIQUE \(request_key\)", "", tickets)
    older = re.sub(r",\s*FOREIGN KEY\(transferred_from_id\) REFERENCES services \(id\)", "", older)
    assert older != tickets and "request_key" in older
    indexes = [
        sql
        for (sql,) in connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL"
            " AND name != 'ux_tickets_active_counter'"
        )
    ]
    connection.executescript(
        f"""
        PRAGMA foreign_keys = OFF;
        BEGIN;
        {older.replace("CREATE TABLE tickets", "CREATE TABLE older_tickets", 1)};
        INSERT INTO older_tickets SELECT * FROM tickets;
        DROP TABLE tickets;
        ALTER TABLE older_tickets RENAME TO tickets;
        {";".join(indexes)};
        DROP INDEX ix_report_cells_day;
        CREATE INDEX ix_report_cells_day ON report_cells (business_date, service_id);
        ALTER TABLE hall DROP COLUMN day_close_delay_min;
        ALTER TABLE visits DROP COLUMN follow_up_done_at;
        COMMIT;
        """
    )
    connection.close()


def test_an_older_hall_gains_its_missing_indexes_constraints_and_columns(
    release_url, make_app, tmp_path, request
):
    make_older(release_url)
    before = every_row(release_url)
    application = make_app(release_url)

    result = application.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    kind = kind_of(release_url)
    assert schema_of(release_url) == create_all_schema(
        kind, tmp_path, lambda: request.getfixturevalue("postgres_base_url")
    )
    assert autogenerate_differences(application) == []
    assert_kept(before, every_row(release_url))
    with application.app_context():
        (hall,) = db.session.execute(sa.text("SELECT day_close_delay_min FROM hall")).all()
        follow_ups = db.session.scalars(sa.text("SELECT follow_up_done_at FROM visits")).all()
    assert hall == (60,), "the column's default for the hall that had none"
    assert follow_ups == [None] * len(before["visits"])
    with pytest.raises(sa.exc.IntegrityError):
        second_active_ticket_at_counter_3(release_url)
    engine = make_engine(release_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE tickets SET request_key = 'kiosk-1:0001' WHERE number = 'B001'")
            )
    finally:
        engine.dispose()


def test_an_older_hall_that_breaks_a_new_rule_is_refused_and_left_as_it_was(release_url, make_app):
    make_older(release_url)
    second_active_ticket_at_counter_3(release_url)  # possible before the index existed
    before, schema = every_row(release_url), schema_of(release_url)
    application = make_app(release_url)

    result = application.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 1, result.output
    assert "Upgrade failed" in result.output
    assert "tickets (counter_id)" in result.output and "(3,) in 2 rows" in result.output
    assert "close-day" in result.output, "it says how to put it right"
    assert revision_of(release_url) is None
    assert (every_row(release_url), schema_of(release_url)) == (before, schema)


def test_a_hall_table_from_the_first_commits_gains_its_columns_and_the_other_tables(database_url, make_app):
    run_sql(
        database_url,
        """
        CREATE TABLE hall (id INTEGER NOT NULL PRIMARY KEY, name JSON NOT NULL,
            priority_policy VARCHAR(16) NOT NULL, priority_every_n INTEGER NOT NULL,
            kiosk_ticket_seconds INTEGER NOT NULL, opening_hours JSON NOT NULL, closed_dates JSON NOT NULL);
        INSERT INTO hall VALUES (1, '{"zh": "大厅"}', 'strict', 3, 8, '{}', '[]');
        """,
    )
    application = make_app(database_url)

    result = application.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert autogenerate_differences(application) == []
    with application.app_context():
        row = db.session.execute(
            sa.text("SELECT name, timezone, languages, day_close_delay_min FROM hall")
        ).one()
    assert (json.loads(row[0]) if isinstance(row[0], str) else row[0]) == {"zh": "大厅"}
    assert tuple(row[1:]) == (None, None, 60)


# -- an empty database ----------------------------------------------------------------------------


def test_init_db_on_an_empty_database_makes_the_models_schema(database_url, make_app, tmp_path, request):
    application = make_app(database_url)

    result = application.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert "made before migrations" not in result.output
    assert revision_of(database_url) == HEAD
    assert schema_of(database_url) == create_all_schema(
        kind_of(database_url), tmp_path, lambda: request.getfixturevalue("postgres_base_url")
    )
    assert autogenerate_differences(application) == []
    assert application.test_cli_runner().invoke(args=["db", "check"]).exit_code == 0


def test_flask_db_upgrade_and_downgrade_on_an_empty_database(database_url, make_app):
    application = make_app(database_url)
    runner = application.test_cli_runner()

    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert revision_of(database_url) == HEAD
    assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0
    assert set(every_row(database_url)) == set(), "downgrade to base leaves only alembic_version"
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert autogenerate_differences(application) == []


# -- the configuration file of release 0.1 -----------------------------------------------------------


def test_a_configuration_exported_by_release_0_1_imports_on_the_new_schema(database_url, make_app):
    application = make_app(database_url)
    runner = application.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    old = json.loads((FIXTURES / "release-0.1-config.json").read_text(encoding="utf-8"))

    imported = runner.invoke(args=["import-config", str(FIXTURES / "release-0.1-config.json")])

    assert imported.exit_code == 0, imported.output
    assert "Configuration imported." in imported.output
    exported = runner.invoke(args=["export-config"])
    assert exported.exit_code == 0, exported.output
    new = json.loads(exported.output)
    assert {key: new["hall"][key] for key in old["hall"]} == old["hall"]
    for kind in ("services", "counters"):
        assert [
            {key: item[key] for key in was} for item, was in zip(new[kind], old[kind], strict=True)
        ] == old[kind]
    services = application.test_client().get("/api/v1/services").get_json()
    assert [s["code"] for s in services] == ["A", "B", "C", "D"]


# -- 0014: counter pauses --------------------------------------------------------------------------


def test_0014_upgrades_a_0013_hall_and_ends_a_pause_under_way_whole(database_url, make_app, clock):
    """A 0013 hall with a counter paused at the upgrade: every row is kept, and the resume after
    it writes that pause whole (its start from the duty stretch); downgrading drops the table."""
    application = make_app(database_url)
    runner = application.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0013"]).exit_code == 0
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            clerk = User(
                username="clerk1", display_name="clerk1", role="clerk", password_hash="x", active=True
            )
            counter = Counter(name="1", state="closed", active=True)
            session.add_all([clerk, counter])
            session.flush()
            open_counter(session, clock, counter.id, clerk.id)
            session.commit()
            counter_id, clerk_id = counter.id, clerk.id
        paused_at = clock.now()
        with engine.begin() as connection:  # what pause_counter of 0013 wrote
            connection.execute(sa.text("UPDATE counters SET state = 'paused'"))
            connection.execute(
                sa.text("UPDATE counter_sessions SET paused_at = :at, pause_count = 1"),
                {"at": paused_at.replace(tzinfo=None)},
            )
        before = every_row(database_url)

        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0

        assert revision_of(database_url) == HEAD
        after = every_row(database_url)
        assert_kept(before, after)
        assert after["counter_pauses"] == []
        clock.advance(minutes=10)
        with Session(engine) as session:
            resume_counter(session, clock, counter_id, clerk_id)
            session.commit()
            (pause,) = session.scalars(sa.select(CounterPause)).all()
            assert (pause.counter_id, pause.staff_id, pause.business_date) == (
                counter_id,
                clerk_id,
                clock.today(),
            )
            assert (pause.started_at, pause.ended_at) == (paused_at, clock.now())
    finally:
        engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0013"]).exit_code == 0
    rows = every_row(database_url)
    assert "counter_pauses" not in rows and len(rows["counter_sessions"]) == 1
