"""The per-address limit on taking tickets, shared by the API and the visitor pages.

Registered kiosk devices are exempt: a whole hall takes its numbers from one address.
"""

from __future__ import annotations

import secrets

from flask import current_app, request
from sqlalchemy import select

from kiosk.auth import token_digest
from kiosk.extensions import db, limiter
from queue_engine.core.models import KioskDevice

DEVICE_COOKIE = "qms_kiosk_device"
DEVICE_COOKIE_DAYS = 3650


def _configured() -> str:
    return str(current_app.config["QMS_TICKET_RATE_LIMIT"]).strip()


def _limit() -> str:
    # "0" (off) is not a limit Flask-Limiter can parse; the exemption below applies then.
    return _configured() if _configured() not in ("", "0") else "1/second"


def registered_device() -> KioskDevice | None:
    """The registered kiosk this request comes from, if its device cookie is valid."""
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return None
    return db.session.scalars(
        select(KioskDevice).where(KioskDevice.token_hash == token_digest(token), KioskDevice.active.is_(True))
    ).first()


def _exempt() -> bool:
    if _configured() in ("", "0"):
        return True
    return registered_device() is not None


def new_device_token() -> tuple[str, str]:
    """A fresh device token and the digest to store."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


ticket_limit = limiter.shared_limit(_limit, scope="tickets", exempt_when=_exempt)
