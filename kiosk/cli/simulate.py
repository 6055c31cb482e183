"""Flask CLI for history and reports: ``simulate`` (past days through the engine), ``reports-rebuild``."""

from __future__ import annotations

from datetime import date
from typing import cast

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import Table, select

from kiosk.cli.seed import seed_demo
from kiosk.context import clock
from kiosk.extensions import db, db_session
from queue_engine.core.errors import QueueError
from queue_engine.core.models import ReportCell, ReportDay, ReportMonth, Service
from queue_engine.reporting.cells import finalize_days
from queue_engine.simulation import SimulationResult, SimulationSettings, simulate


@click.command("simulate")
@with_appcontext
@click.option(
    "--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="Past days to create."
)
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed (same seed, same history).")
@click.option("--end", default=None, help="Last day to create, YYYY-MM-DD (default: yesterday).")
@click.option(
    "--load", default=0.9, show_default=True, type=click.FloatRange(0.05, 3.0), help="Peak-hour load."
)
def simulate_command(days: int, seed: int, end: str | None, load: float) -> None:
    """Create realistic past business days through the queue engine (demo hall if none)."""
    try:
        last = date.fromisoformat(end) if end else None
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--end") from None
    db.create_all()
    if db.session.scalars(select(Service)).first() is None:
        seed_demo(db_session(), None)
        db.session.commit()
        click.echo("No hall yet: created the demo hall (services A-D, counters 1-4, clerks).")

    def progress(day: date, result: SimulationResult) -> None:
        click.echo(f"{day.isoformat()}: {result.counts.get('issued', 0)} tickets so far", err=True)

    settings = SimulationSettings(days=days, seed=seed, end=last, load=load)
    try:
        result = simulate(db_session(), clock().tz, settings, progress)
    except QueueError as error:
        raise click.ClickException(error.message) from None
    counts = ", ".join(f"{name} {n}" for name, n in sorted(result.counts.items()))
    click.echo(f"Simulated {len(result.days)} working day(s): {counts or 'nothing'}.")
    if result.skipped:
        click.echo(f"Skipped {len(result.skipped)} day(s) that already had tickets.")


@click.command("reports-rebuild")
@with_appcontext
def reports_rebuild() -> None:
    """Store the report figures of every closed day again (after a change of timezone or layout).

    The report tables are a cache of the tickets: they are dropped and created anew, so this
    also repairs them after an upgrade that changed their columns.
    """
    tables = [cast(Table, model.__table__) for model in (ReportCell, ReportDay, ReportMonth)]
    db.metadata.drop_all(db.engine, tables=tables)
    db.metadata.create_all(db.engine, tables=tables)
    stored = finalize_days(db_session(), clock())
    db.session.commit()
    click.echo(f"Stored the report figures of {len(stored)} day(s).")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(simulate_command)
    app.cli.add_command(reports_rebuild)
