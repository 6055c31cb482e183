"""Assertions shared by the web tests."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from kiosk.extensions import db

# The /api/v1 operations DESIGN §7 opens to anyone; every other one is for staff.
PUBLIC = {
    ("GET", "/api/v1/services"),
    ("POST", "/api/v1/tickets"),
    ("GET", "/api/v1/tickets/{token}"),
    ("POST", "/api/v1/tickets/{token}/cancel"),
    ("POST", "/api/v1/tickets/{token}/rating"),
    ("POST", "/api/v1/tablets/{device}/rating"),  # the holder of a rating tablet's device token
    ("GET", "/api/v1/display"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/services/{code}/slots"),
    ("POST", "/api/v1/appointments"),
    ("GET", "/api/v1/appointments/{token}"),
    ("POST", "/api/v1/appointments/{token}/cancel"),
    ("POST", "/api/v1/appointments/{token}/check-in"),
    ("POST", "/api/v1/appointments/check-in"),  # a registered kiosk, or staff (checked in the view)
    ("POST", "/api/v1/sms/inbound"),  # the SMS gateway, with X-QMS-SMS-Token (checked in the view)
}


def error_of(response: Any) -> dict[str, str]:
    """The {"code", "message"} of a JSON error answer, after checking its shape (DESIGN §7)."""
    assert response.is_json, (response.status_code, response.get_data(as_text=True)[:200])
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message"}, body
    assert isinstance(error["code"], str) and error["code"], body
    assert isinstance(error["message"], str) and error["message"], body
    return error


def all_rows(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that a refused request changed nothing."""
    with app.app_context():
        return {
            table.name: sorted((tuple(row) for row in db.session.execute(table.select())), key=repr)
            for table in db.metadata.sorted_tables
        }


def api_routes(app: Flask) -> set[tuple[str, str]]:
    """(method, path) of every /api/v1 route, with path parameters written {name}."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def delivered(sio: Any) -> list[dict[str, Any]]:
    """The events a Socket.IO test client holds once its app's publisher has sent everything.

    Publishing runs off the request path (DESIGN §6): wait for it, never sleep and hope.
    """
    from kiosk import realtime

    with sio.app.app_context():
        assert realtime.flush(), "the publisher did not send within its timeout"
    return list(sio.get_received())
