"""``flask --app kiosk webhook add URL --events a,b``, ``webhook list``, ``webhook remove ID`` (§7)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from kiosk.context import clock
from kiosk.extensions import db, db_session
from queue_engine.core.errors import QueueError
from queue_engine.notify.webhooks import subscribe, subscriptions, unsubscribe

webhook = AppGroup("webhook", help="Webhook subscriptions (DESIGN §11).")


@webhook.command("add")
@click.argument("url")
@click.option("--events", required=True, help="Comma-separated, e.g. ticket.called,ticket.near")
@click.option("--trusted", is_flag=True, help="Send personal data (names, phones, contacts) too.")
def add(url: str, events: str, trusted: bool) -> None:
    """Subscribe URL to events; prints the signing secret as the last line (shown once)."""
    try:
        subscription = subscribe(
            db_session(),
            clock().now(),
            url,
            events.split(","),
            trusted_for_personal_data=trusted,
            actor_id=None,
        )
        db.session.commit()
    except QueueError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"Webhook {subscription.id}: {subscription.url} ({', '.join(subscription.events)})")
    click.echo(subscription.secret)


@webhook.command("list")
def list_() -> None:
    """The active subscriptions: id, URL, events, trusted."""
    for s in subscriptions(db_session()):
        trusted = " trusted" if s.trusted_for_personal_data else ""
        click.echo(f"{s.id}\t{s.url}\t{','.join(s.events)}{trusted}")


@webhook.command("remove")
@click.argument("subscription_id", type=int)
def remove(subscription_id: int) -> None:
    """Remove a subscription."""
    try:
        unsubscribe(db_session(), subscription_id, clock().now(), None)
        db.session.commit()
    except QueueError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"Webhook {subscription_id} removed.")


def init_app(app: Flask) -> None:
    """Register the webhook commands."""
    app.cli.add_command(webhook)
