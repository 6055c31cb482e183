"""Flask CLI: export-config and import-config (the hall's set-up as one JSON file)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from kiosk import runtime as hall_runtime
from kiosk.actions import commit
from kiosk.context import clock
from kiosk.extensions import db, db_session
from kiosk.realtime import command_line_publishing
from queue_engine.hall.config_io import ConfigInvalid, dump_config, export_config, import_config, parse_config


@click.command("export-config")
@with_appcontext
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)
def export_config_command(output: Path | None) -> None:
    """Write the services, counters and hall settings as JSON (no staff, passwords or tokens)."""
    text = dump_config(export_config(db_session(), clock()))
    db.session.rollback()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Configuration written to {output}", err=True)


@click.command("import-config")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only check the file and show what would change.")
def import_config_command(file: Path, check: bool) -> None:
    """Make the hall's set-up the file's; a file with any problem changes nothing."""
    try:
        summary = import_config(db_session(), clock(), None, parse_config(file.read_bytes()))
    except ConfigInvalid as error:
        db.session.rollback()
        for problem in error.errors:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(error.message) from None
    for verb, kinds in (("created", summary.created), ("updated", summary.updated)):
        for kind, names in kinds.items():
            if names:
                click.echo(f"{kind} {verb}: {', '.join(names)}")
    for kind, names in summary.deactivated.items():
        if names:
            click.echo(f"{kind} deactivated (not in the file): {', '.join(names)}")
    click.echo(f"hall settings {'changed' if summary.hall_changed else 'unchanged'}")
    if check:
        db.session.rollback()
        click.echo("Checked only: nothing was changed.")
        return
    with command_line_publishing(current_app):
        commit()  # open kiosks, boards and panels refetch (through Redis, or the server's change watcher)
    hall_runtime.sync(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo("Configuration imported.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(export_config_command)
    app.cli.add_command(import_config_command)
