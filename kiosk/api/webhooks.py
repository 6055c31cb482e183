"""Webhook subscriptions under /api/v1/webhooks (admins; DESIGN §11)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from kiosk.actions import commit
from kiosk.api import bp
from kiosk.api.models.webhooks import NewWebhook, Webhook
from kiosk.api.operations import api_route
from kiosk.auth import staff
from kiosk.context import clock
from kiosk.extensions import db_session
from queue_engine.core.kinds import Role
from queue_engine.notify.webhooks import subscribe, subscription_record, subscriptions, unsubscribe


@bp.get("/webhooks")
@api_route(roles=(Role.ADMIN,), answers={200: list[Webhook]})
def webhooks() -> Any:
    """The active webhook subscriptions (no secrets)."""
    return jsonify([subscription_record(s) for s in subscriptions(db_session())])


@bp.post("/webhooks")
@api_route(body=NewWebhook, roles=(Role.ADMIN,), answers={201: Webhook}, errors={422: "invalid_input"})
def add_webhook(body: NewWebhook) -> Any:
    """Subscribe a URL to events; the answer carries the signing secret, shown this once."""
    subscription = subscribe(
        db_session(),
        clock().now(),
        body.url,
        body.events,
        trusted_for_personal_data=body.trusted_for_personal_data,
        actor_id=staff().id,
    )
    commit()
    return jsonify(subscription_record(subscription, with_secret=True)), 201


@bp.delete("/webhooks/<int:subscription_id>")
@api_route(roles=(Role.ADMIN,), answers={204: None}, errors={404: "not_found"})
def remove_webhook(subscription_id: int) -> Any:
    """Remove a subscription: nothing more is sent to it."""
    unsubscribe(db_session(), subscription_id, clock().now(), staff().id)
    commit()
    return "", 204
