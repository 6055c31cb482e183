"""Flask CLI: init-db (migrations), seed-demo, create-user, issue-token, close-day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from alembic import command as alembic
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError

from kiosk.actions import commit
from kiosk.auth import hash_password, issue_token
from kiosk.cli.seed import hall_contents, seed_demo
from kiosk.cli.seed_large import seed_large
from kiosk.context import clock
from kiosk.extensions import db, db_session
from kiosk.limits import new_device_token
from kiosk.realtime import command_line_publishing
from queue_engine import close_business_day
from queue_engine.core.errors import QueueError
from queue_engine.core.kinds import Role
from queue_engine.core.models import Counter, User
from queue_engine.core.numbers import whole_number
from queue_engine.hall.admin import register_kiosk as register_kiosk_device
from queue_engine.hall.admin import register_tablet as register_rating_tablet
from queue_engine.hall.admin import revoke_tablet as revoke_rating_tablet
from queue_engine.hall.rules import SettingsInvalid
from queue_engine.hall.staff import password_problem


def logins_file() -> Path:
    """Where the demo passwords are kept (instance/, never in the repository)."""
    return Path(current_app.instance_path) / "demo-logins.txt"


def _user(username: str) -> User:
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    return user


def made_before_migrations() -> bool:
    """Whether the database has the app's tables but no alembic_version (release 0.1 or earlier)."""
    with db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    return "alembic_version" not in tables and bool(tables & set(db.metadata.tables))


def upgrade_database() -> str | None:
    """Run the migrations up to the newest (kiosk/migrations); returns the database's revision.

    A database made before migrations is adopted by the first one, which adds the indexes and
    constraints that ``create_all`` never added to existing tables.  Each upgrade is one
    transaction: when it fails, the database is left as it was.
    """
    if made_before_migrations():
        click.echo("Tables made before migrations (release 0.1 or earlier): adopting them, every row kept.")
    config = current_app.extensions["migrate"].migrate.get_config()
    try:
        alembic.upgrade(config, "head")
    except (CommandError, RuntimeError, SQLAlchemyError) as error:
        raise click.ClickException(f"Upgrade failed; the database is as it was. {error}") from error
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database to the newest schema (Alembic migrations); data is kept."""
    revision = upgrade_database()
    url = db.engine.url.render_as_string(hide_password=True)
    click.echo(f"Database ready (schema revision {revision}): {url}")


@click.command("seed-demo")
@with_appcontext
@click.option("--password", default=None, help="One password for every demo user (default: random).")
@click.option(
    "--size",
    type=click.Choice(["demo", "large"]),
    default="demo",
    help="demo: services A-D, counters 1-4; large: 12 services, 30 counters, 40 clerks.",
)
def seed_demo_command(password: str | None, size: str) -> None:
    """Create the demo hall (or, --size large, a real hall's size) in an empty database; print the logins."""
    upgrade_database()
    held = hall_contents(db_session())
    if any(held.values()):
        counts = ", ".join(f"{count} {kind}" for kind, count in held.items())
        click.echo(f"The database already holds a hall ({counts}): seed-demo changed nothing.")
    elif size == "large":
        seed_large(db_session(), logins_file(), password)
        db.session.commit()
        click.echo("Large hall ready: 12 services, 30 counters, 40 clerks.")
    else:
        seed_demo(db_session(), logins_file(), password)
        db.session.commit()
        click.echo("Demo hall ready: services A-D, counters 1-4.")
    if logins_file().exists():
        click.echo("Demo logins (username password), also in instance/demo-logins.txt:")
        click.echo(logins_file().read_text().rstrip())


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--display-name", default="")
@click.option("--counters", default="", help="Counter ids the user may work at, e.g. 1,2")
@click.password_option(envvar="QMS_NEW_USER_PASSWORD")
def create_user(username: str, role: str, display_name: str, counters: str, password: str) -> None:
    """Create a member of staff (the password is asked for, or QMS_NEW_USER_PASSWORD)."""
    if db.session.scalars(select(User).where(User.username == username)).first():
        raise click.ClickException(f"A user named {username!r} exists already.")
    if problem := password_problem(password, username):
        raise click.ClickException(problem)
    ids = [n for n in map(whole_number, counters.split(",")) if n is not None]
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_password(password),
        active=True,
    )
    user.counters = list(db.session.scalars(select(Counter).where(Counter.id.in_(ids))))
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {username}.")


@click.command("issue-token")
@with_appcontext
@click.argument("username")
def issue_token_command(username: str) -> None:
    """Give a user a new API token (the old one stops working); the token is the last line."""
    user = _user(username)
    token = issue_token(user)
    db.session.commit()
    click.echo(f"API token for {username} (shown once; send it as 'Authorization: Bearer ...'):")
    click.echo(token)


@click.command("close-day")
@with_appcontext
@click.option(
    "--date", "day", default=None, help="Expire open tickets up to this day (default: before today)."
)
def close_day(day: str | None) -> None:
    """Expire tickets left open on past business days."""
    try:
        last_day = date.fromisoformat(day) if day else None
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--date") from None
    with command_line_publishing(current_app):
        count = close_business_day(db_session(), clock(), last_day)
        commit()  # open boards and phones drop the expired numbers
    click.echo(f"Expired {count} ticket(s).")


@click.command("register-kiosk")
@with_appcontext
@click.argument("name")
def register_kiosk(name: str) -> None:
    """Register a kiosk device (exempt from the ticket limit); prints the link to open on it once."""
    token, digest = new_device_token()
    try:
        register_kiosk_device(db_session(), clock(), None, name, digest)
    except SettingsInvalid as error:
        db.session.rollback()
        raise click.ClickException(f"Kiosk not registered: {'; '.join(error.errors.values())}") from None
    commit()
    click.echo(f"Open this address once on the kiosk {name!r} (keep it secret):")
    click.echo(f"/kiosk/register/{token}")


@click.command("register-tablet")
@with_appcontext
@click.argument("name")
@click.option(
    "--counter", "counter_id", required=True, type=int, help="The counter whose visits it asks about."
)
def register_tablet(name: str, counter_id: int) -> None:
    """Register a counter's rating tablet; prints the address to open on it (its last line)."""
    token, digest = new_device_token()
    try:
        register_rating_tablet(db_session(), clock(), None, name, counter_id, digest)
    except SettingsInvalid as error:
        db.session.rollback()
        raise click.ClickException(f"Tablet not registered: {'; '.join(error.errors.values())}") from None
    commit()
    click.echo(f"Open this address on the rating tablet {name!r} of counter {counter_id} (keep it secret):")
    click.echo(f"/rate/{token}")


@click.command("revoke-tablet")
@with_appcontext
@click.argument("tablet_id", type=int)
def revoke_tablet(tablet_id: int) -> None:
    """Revoke a rating tablet by its id: its address stops working at once."""
    try:
        tablet = revoke_rating_tablet(db_session(), clock(), None, tablet_id)
    except QueueError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    commit()
    click.echo(f"Rating tablet {tablet.name!r} revoked.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    commands = (
        *(init_db, seed_demo_command, create_user, issue_token_command, close_day, register_kiosk),
        *(register_tablet, revoke_tablet),
    )
    for command in commands:
        app.cli.add_command(command)
    from kiosk.cli import backup as cli_backup
    from kiosk.cli import config as cli_config
    from kiosk.cli import simulate as cli_simulate
    from kiosk.cli import webhooks as cli_webhooks

    cli_backup.init_app(app)
    cli_simulate.init_app(app)
    cli_config.init_app(app)
    cli_webhooks.init_app(app)
