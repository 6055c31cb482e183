"""Alembic's environment, run by `flask db ...` and `flask init-db`: the app's engine and models.

On SQLite every migration runs in one transaction (SQLite's DDL is transactional; Alembic's
default would commit after each step), begun IMMEDIATE by queue_engine.core.db like every
write.  Foreign keys are switched off while it runs: a batch operation alters a table by
copying it and dropping the original, and with foreign keys on that drop would delete, or
cascade to, the rows that refer to it.  PRAGMA foreign_key_check proves nothing was broken
before the transaction commits.
"""

from __future__ import annotations

from typing import Any

import click
from alembic import context
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext, MigrationInfo
from flask import current_app
from sqlalchemy import Connection

migrate = current_app.extensions["migrate"]
target_metadata = migrate.db.metadata


def _no_empty_revision(migration: MigrationContext, revision: Any, directives: list[Any]) -> None:
    """`flask db migrate` writes no file when the models and the database agree."""
    cmd_opts = migration.config.cmd_opts if migration.config is not None else None
    if getattr(cmd_opts, "autogenerate", False):
        script = directives[0]
        if isinstance(script, ops.MigrationScript) and script.upgrade_ops is not None:
            if script.upgrade_ops.is_empty():
                directives[:] = []
                click.echo("No changes in schema detected.")


def _report(ctx: MigrationContext, step: MigrationInfo, heads: Any, run_args: Any) -> None:
    """One line per migration applied."""
    if step.is_stamp:
        return
    verb = "Upgraded to" if step.is_upgrade else "Downgraded from"
    revision = step.up_revision
    if revision is not None:  # the script's first docstring line says what it does
        click.echo(f"{verb} {revision.revision}: {getattr(revision, 'doc', '')}")


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # Outside any transaction (PRAGMA foreign_keys is a no-op inside one): on the raw connection.
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def run_migrations_offline() -> None:
    """`flask db upgrade --sql`: the SQL, written out instead of run."""
    context.configure(
        url=migrate.db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        **migrate.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the app's database, in one transaction."""
    options = {"process_revision_directives": _no_empty_revision, **migrate.configure_args}
    with migrate.db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                transactional_ddl=True,
                on_version_apply=_report,
                **options,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"The migration would break foreign keys: {broken[:10]}")
        finally:
            if sqlite:
                connection.rollback()
                _sqlite_foreign_keys(connection, on=True)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
