"""Web Push to the phone page: a real local push service receives the VAPID-signed, encrypted
notification, which the test decrypts with the browser's keys, as a browser would."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.extensions import db
from queue_engine import FakeClock
from queue_engine.notify.channels_push import stop_push
from queue_engine.notify.visitor_models import VisitorContact
from queue_engine.notify.visitors import forget_channel_state
from queue_engine.notify.worker import RetryPolicy, deliver_due
from tests.receiver import Gateway

QUICK = RetryPolicy(first_retry_s=1, factor=2, give_up_s=60, timeout_s=2)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """The keys a browser makes for a push subscription."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = {
            "endpoint": endpoint,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }

    def read(self, body: bytes) -> dict[str, Any]:
        """Decrypt a push message (aes128gcm)."""
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        found: dict[str, Any] = json.loads(plain)
        return found


@pytest.fixture
def push_app(app_factory: Callable[..., Flask], tmp_path: Path) -> Iterator[Flask]:
    forget_channel_state()
    yield app_factory(QMS_WEB_PUSH=True, QMS_VAPID_KEY_FILE=str(tmp_path / "vapid.pem"))
    stop_push()  # the channel is process-wide: later tests' apps have no push
    forget_channel_state()


@pytest.fixture
def service() -> Iterator[Gateway]:
    found = Gateway()
    found.start()
    yield found
    found.stop()


def deliver(app: Flask, clock: FakeClock) -> int:
    with app.app_context():
        return deliver_due(db.session, clock.now(), policy=QUICK)


def vapid_claims(authorization: str, page_key: str) -> dict[str, Any]:
    """The VAPID JWT's claims, after checking its ES256 signature with the page's public key."""
    token, key = re.fullmatch(r"vapid t=([^,]+), ?k=(\S+)", authorization).groups()  # type: ignore[union-attr]
    assert key == page_key
    header, claims, signature = token.split(".")
    raw = unb64url(signature)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    found: dict[str, Any] = json.loads(unb64url(claims))
    return found


def test_the_called_visitor_gets_a_signed_encrypted_notification_in_their_language(
    push_app: Flask, clock: FakeClock, service: Gateway, token_for: Any
) -> None:
    client: FlaskClient = push_app.test_client()
    mine = client.post("/api/v1/tickets", json={"service": "A", "lang": "en"}).get_json()
    page = client.get(f"/t/{mine['token']}").get_data(as_text=True)
    page_key = re.search(r'id="push-ask"[^>]*data-key="([^"]+)"', page, re.S)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert page_key and csrf, page[:300]
    browser = Browser(f"{service.url}/sub-1")

    forged = client.post(f"/t/{mine['token']}/push", json=browser.subscription)
    refused = client.post(
        f"/t/{mine['token']}/push", json={"endpoint": "x"}, headers={"X-CSRFToken": csrf[1]}
    )
    allowed = client.post(
        f"/t/{mine['token']}/push", json=browser.subscription, headers={"X-CSRFToken": csrf[1]}
    )
    called = client.post("/api/v1/counters/2/call-next", headers=token_for("clerk2"))
    assert (forged.status_code, refused.status_code, allowed.status_code, called.status_code) == (
        400,
        422,
        204,
        200,
    )
    assert deliver(push_app, clock) == 1

    (request,) = service.requests
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["content-encoding"] == "aes128gcm"
    assert vapid_claims(headers["authorization"], page_key[1])["aud"] == f"http://127.0.0.1:{service.port}"
    note = browser.read(request["raw"])
    assert note["title"].endswith("Your number is called")
    assert note["body"].endswith(f"number {mine['number']}, please go to counter 2.")


def test_a_subscription_the_browser_dropped_is_forgotten(
    push_app: Flask, clock: FakeClock, service: Gateway, token_for: Any
) -> None:
    client: FlaskClient = push_app.test_client()
    first = client.post("/api/v1/tickets", json={"service": "A", "lang": "zh"}).get_json()
    mine = client.post("/api/v1/tickets", json={"service": "A", "lang": "zh"}).get_json()
    page = client.get(f"/t/{mine['token']}").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert csrf
    browser = Browser(f"{service.url}/sub-2")
    headers = {"X-CSRFToken": csrf[1]}
    assert (
        client.post(f"/t/{mine['token']}/push", json=browser.subscription, headers=headers).status_code == 204
    )
    service.answers = [410]

    assert client.post("/api/v1/counters/1/call-next", headers=token_for("clerk1")).status_code == 200
    assert deliver(push_app, clock) == 0  # the first visitor left nothing; mine is 0 ahead, not N = 3
    assert client.post("/api/v1/counters/2/call-next", headers=token_for("clerk2")).status_code == 200
    assert deliver(push_app, clock) == 1  # answered 410: done, and the subscription forgotten
    with push_app.app_context():
        assert db.session.scalars(select(VisitorContact.push)).all() == [None]
    assert len(service.requests) == 1 and first["number"] != mine["number"]
