"""Security headers of every answer (DESIGN §13), set in one after_request hook.

* ``Content-Security-Policy``: scripts only from our own files (no inline script: the board's
  ``<script type="application/json">`` is data, never run), no framing (``frame-ancestors``),
  sockets and fetches to our own origin.  Inline *styles* stay allowed: a few elements carry
  a computed width, and htmx adds its indicator style.
* ``X-Content-Type-Options: nosniff`` and ``X-Frame-Options: DENY`` (older browsers).
* ``Referrer-Policy``: ``no-referrer`` on every page whose URL holds a secret token (the
  visitor's ticket ``/t/<token>``, the booking ``/b/<token>``, a kiosk's registration link),
  so that a link followed from there does not carry the token off; ``same-origin`` elsewhere
  (Flask-WTF checks the referrer of forms sent over HTTPS).
* ``Cache-Control: no-store`` on those token pages: a shared or lost phone's cache keeps no
  copy of the ticket page.
* Over TLS (directly, or behind nginx with ``QMS_PROXY_COUNT`` and ``X-Forwarded-Proto``):
  ``Strict-Transport-Security``, and the session cookie is ``Secure``.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"
# Pages (not the API, which has no links to follow) whose path carries a secret token.
TOKEN_PAGES = re.compile(r"^/(t|b)/[^/]+|^/kiosk/register/")


def carries_token(path: str) -> bool:
    """Whether a page's URL holds a secret token (ticket, booking, kiosk registration)."""
    return TOKEN_PAGES.match(path) is not None


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, ``Secure`` whenever the request came over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    if carries_token(request.path):
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-store"
    else:
        headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Set the headers on every answer and make the session cookie follow the scheme."""
    app.session_interface = SessionInterface()
    app.after_request(_headers)
