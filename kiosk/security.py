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
from typing import Any

from flask import Flask, Response, abort, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.routing import IntegerConverter

from queue_engine.core.numbers import MAX_ID

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


UNPAIRED_SURROGATE = re.compile("[\ud800-\udfff]")


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: an id beyond the column's range is a 404, not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def half_surrogate(text: str) -> bool:
    """Whether text holds half a surrogate pair (JSON's ``\\ud800``), which no database stores."""
    return UNPAIRED_SURROGATE.search(text) is not None


def unstorable(text: str) -> bool:
    """Whether text holds what no database column can keep: a NUL, or half a surrogate pair."""
    return "\x00" in text or half_surrogate(text)


def _refuse_unstorable_input() -> None:
    # Query strings and forms of the pages: refused whole (400) before any view reads them,
    # instead of failing inside PostgreSQL.  The API's models refuse NUL per field (422), and
    # kiosk/api/parsing.py a JSON body with half a surrogate pair (400).
    if request.blueprint == "api" or request.endpoint == "auth.login":
        return  # a NUL in a log-in is a wrong login (401), like any other
    if any(isinstance(value, str) and unstorable(value) for value in (request.view_args or {}).values()):
        abort(404)  # no ticket, booking or device link holds NUL: it names nothing
    for source in (request.args, request.form):
        for name, values in source.lists():
            if unstorable(name) or any(unstorable(value) for value in values):
                abort(400, f"The field {name!r} holds a NUL character. / 输入含有无效字符。")


def init_app(app: Flask) -> None:
    """Set the headers on every answer and make the session cookie follow the scheme."""
    app.session_interface = SessionInterface()
    app.before_request(_refuse_unstorable_input)
    app.after_request(_headers)


def bound_ids(app: Flask) -> None:
    """Make ``<int:...>`` refuse ids beyond ``MAX_ID``; before any route is added."""
    app.url_map.converters["int"] = IdConverter
