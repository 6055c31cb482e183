"""Web Push to the visitor's phone page (``channel="push"``): "N ahead" and "called" as a
notification, for visitors whose page was allowed to show them.

The hall's VAPID key pair lives in one PEM file (generated on first use into ``instance/``); the
public half is the page's ``applicationServerKey``.  Each message is encrypted for the browser's
subscription (aes128gcm, RFC 8291) and posted to its push service with a VAPID signature.  A
201/2xx is done; 404/410 means the visitor's browser dropped the subscription (forgotten, not
retried); anything else is retried by the worker.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid  # type: ignore[import-untyped]
from py_vapid.utils import b64urlencode  # type: ignore[import-untyped]
from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from queue_engine.notify.models import OutboxMessage
from queue_engine.notify.outbox import Sent, register_channel
from queue_engine.notify.visitor_models import VisitorContact

_CONFIG: dict[str, str] = {}
_LOCK = threading.Lock()
GONE = (404, 410)


def ensure_vapid_keys(key_file: Path) -> str:
    """The hall's VAPID public key (base64url, for the page), making the key pair if there is none."""
    with _LOCK:
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            vapid = Vapid()
            vapid.generate_keys()
            vapid.save_key(str(key_file))
            key_file.chmod(0o600)
        vapid = Vapid.from_file(private_key_file=str(key_file))
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return str(b64urlencode(raw))


def configure_push(key_file: Path, subject: str) -> str:
    """Turn the push channel on with this key file (``subject``: the hall's mailto: or https: URL)."""
    public = ensure_vapid_keys(key_file)
    _CONFIG.update(key_file=str(key_file), subject=subject, public=public)
    return public


def stop_push() -> None:
    """Turn the push channel off again (an app that goes away; tests)."""
    _CONFIG.clear()


def push_public_key() -> str:
    """The configured public key ("" when push is off)."""
    return _CONFIG.get("public", "")


def valid_subscription(value: Any) -> dict[str, Any] | None:
    """A browser's PushSubscription JSON as stored, or None when it is not one."""
    if not isinstance(value, dict):
        return None
    endpoint, keys = value.get("endpoint"), value.get("keys")
    if (
        not isinstance(endpoint, str)
        or not endpoint.startswith(("https://", "http://"))
        or len(endpoint) > 1000
    ):
        return None
    if not isinstance(keys, dict) or not all(isinstance(keys.get(k), str) for k in ("p256dh", "auth")):
        return None
    return {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"][:200], "auth": keys["auth"][:100]}}


def send_push(session: Session, message: OutboxMessage, timeout_s: float) -> Sent:
    """Send one notification to the ticket's browser subscription."""
    if not _CONFIG.get("key_file"):
        return Sent(ok=False, error="Web Push is not configured")
    contact = session.scalars(
        select(VisitorContact).where(VisitorContact.ticket_id == message.payload.get("ticket_id"))
    ).first()
    subscription = valid_subscription(contact.push if contact else None)
    if contact is None or subscription is None:
        return Sent(ok=True, answer="skipped: no subscription any more")
    data = json.dumps(
        {
            "title": message.payload.get("subject", ""),
            "body": message.payload.get("text", ""),
            "tag": message.ref,
        },
        ensure_ascii=False,
    )
    try:
        answer = webpush(
            subscription,
            data=data,
            vapid_private_key=_CONFIG["key_file"],
            vapid_claims={"sub": _CONFIG["subject"]},
            timeout=timeout_s,
            ttl=600,
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in GONE:
            ticket_id = contact.ticket_id
            return Sent(
                ok=True,
                status_code=status,
                answer="skipped: the browser dropped the subscription",
                then=lambda s: _forget_push(s, ticket_id),
            )
        return Sent(ok=False, status_code=status, error=f"push failed: {status or error}"[:500])
    except (OSError, ValueError) as error:
        return Sent(ok=False, error=f"{type(error).__name__}: {error}"[:500])
    return Sent(ok=True, status_code=answer.status_code, answer=(answer.text or "")[:300])


def _forget_push(session: Session, ticket_id: int | None) -> None:
    session.execute(update(VisitorContact).where(VisitorContact.ticket_id == ticket_id).values(push=None))


register_channel("push", send_push)
