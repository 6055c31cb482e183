"""Flask CLI: ``backup FILE`` and ``restore FILE`` (DESIGN §13); the rules are in queue_engine.hall.backup."""

from __future__ import annotations

from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import with_appcontext

from kiosk.context import clock
from kiosk.extensions import db
from queue_engine.core.errors import QueueError
from queue_engine.hall.backup import back_up, restore


def head_revision() -> str:
    """The newest migration of this application (a restored copy must be at it)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise click.ClickException("The application has no migrations.")
    return head


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Copy the database into FILE while the hall runs (SQLite online backup; pg_dump -Fc)."""
    try:
        copy = back_up(db.engine.url.render_as_string(hide_password=False), file)
    except QueueError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"Backup written: {copy.path} ({copy.kind}, schema revision {copy.revision}, {copy.size} bytes)"
    )


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds tickets of today.")
def restore_command(file: Path, force: bool) -> None:
    """Replace the database by the backup in FILE, after checking the copy."""
    db.session.remove()
    try:
        copy = restore(db.engine, file, head=head_revision(), today=clock().today(), force=force)
    except QueueError as error:
        raise click.ClickException(error.message) from error
    url = db.engine.url.render_as_string(hide_password=True)
    click.echo(f"Restored {copy.path} (schema revision {copy.revision}) into {url}")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
