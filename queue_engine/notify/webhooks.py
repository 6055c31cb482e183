"""Webhook subscriptions and the webhook channel: signed JSON POSTs (DESIGN §11).

Each delivery is ``POST`` JSON ``{"id","event","at","data"}`` with the header
``X-QMS-Signature: sha256=<hex HMAC-SHA256 of the raw body with the subscription's secret>``;
``id`` is the outbox row's id, the same on every retry.  A 2xx answer is done; anything else,
a refused connection or a timeout is retried.  Personal data (names, phones, contacts) is in
``data.personal`` only for subscriptions trusted for it (the rows are written that way).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import iso
from queue_engine.core.errors import InvalidInput, NotFound
from queue_engine.hall.audit import audit
from queue_engine.notify.models import OutboxMessage, WebhookSubscription
from queue_engine.notify.outbox import EVENTS, Sent, forget_subscriptions, register_channel, send_request

SIGNATURE_HEADER = "X-QMS-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def subscribe(
    session: Session,
    now: datetime,
    url: str,
    events: list[str],
    *,
    trusted_for_personal_data: bool = False,
    actor_id: int | None,
) -> WebhookSubscription:
    """Subscribe a URL to events; the new secret is on the returned row (show it once).

    Audited (``add_webhook``, who, the URL, events and trust; never the secret); ``actor_id``
    None is the command line."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise InvalidInput("The URL must be an http:// or https:// address.")
    chosen = [e.strip() for e in events if e.strip()]
    unknown = sorted(set(chosen) - set(EVENTS))
    if not chosen or unknown:
        raise InvalidInput(
            f"Unknown event(s): {', '.join(unknown)}." if unknown else "Choose at least one event."
        )
    subscription = WebhookSubscription(
        url=url,
        events=list(dict.fromkeys(chosen)),
        secret=secrets.token_hex(24),
        trusted_for_personal_data=trusted_for_personal_data,
        active=True,
        created_at=now,
    )
    session.add(subscription)
    session.flush()
    forget_subscriptions(session)
    audit(session, now, actor_id, "add_webhook", f"webhook:{subscription.id}", after=_audited(subscription))
    return subscription


def _audited(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "url": subscription.url,
        "events": list(subscription.events or []),
        "trusted_for_personal_data": subscription.trusted_for_personal_data,
    }


def subscriptions(session: Session) -> list[WebhookSubscription]:
    """The active subscriptions, oldest first."""
    return list(
        session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.active.is_(True))
            .order_by(WebhookSubscription.id)
        )
    )


def unsubscribe(
    session: Session, subscription_id: int, now: datetime, actor_id: int | None
) -> WebhookSubscription:
    """Remove a subscription: nothing more is sent to it (its delivery log stays); audited."""
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or not subscription.active:
        raise NotFound(f"No webhook has the id {subscription_id}.")
    subscription.active = False
    forget_subscriptions(session)
    audit(
        session, now, actor_id, "remove_webhook", f"webhook:{subscription.id}", before=_audited(subscription)
    )
    return subscription


def subscription_record(subscription: WebhookSubscription, *, with_secret: bool = False) -> dict[str, Any]:
    """A subscription as the API shows it (the secret only when just made)."""
    record: dict[str, Any] = {
        "id": subscription.id,
        "url": subscription.url,
        "events": list(subscription.events or []),
        "trusted_for_personal_data": subscription.trusted_for_personal_data,
        "created_at": iso(subscription.created_at),
    }
    if with_secret:
        record["secret"] = subscription.secret
    return record


def body_of(message: OutboxMessage) -> bytes:
    """The raw JSON body of a webhook delivery (the bytes that are signed)."""
    document = {"id": message.uid, "event": message.event, "at": iso(message.at), "data": message.payload}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def send_webhook(session: Session, message: OutboxMessage, timeout_s: float) -> Sent:
    """POST one outbox row to its subscription's URL."""
    subscription = (
        session.get(WebhookSubscription, message.subscription_id) if message.subscription_id else None
    )
    if subscription is None or not subscription.active:
        return Sent(ok=False, error="subscription removed")
    body = body_of(message)
    request = urllib.request.Request(
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "qms-webhook/1",
            SIGNATURE_HEADER: sign(subscription.secret, body),
        },
    )
    return send_request(request, timeout_s)


register_channel("webhook", send_webhook)
