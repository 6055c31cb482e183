"""Errors as the outside sees them: JSON under /api, a friendly page elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from kiosk.extensions import db
from queue_engine.core.errors import QueueError

STATUS_BY_KIND = {"not_found": 404, "conflict": 409, "invalid": 422, "forbidden": 403}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


class ApiError(Exception):
    """An input or permission problem found by a view, with its status and code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_body(code: str, message: str, status: int) -> Any:
    """The JSON error answer of DESIGN §7."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(status: int, code: str, message: str) -> Any:
    if _wants_json():
        return error_body(code, message, status)
    return render_template("error.html", status=status, code=code, message=message), status


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(QueueError)
    def _queue_error(error: QueueError) -> Any:
        db.session.rollback()
        return _render(STATUS_BY_KIND.get(error.kind, 409), error.code, error.message)

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Any:
        db.session.rollback()
        return _render(error.status, error.code, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Any:
        db.session.rollback()
        return _render(
            400, "csrf_failed", "The form expired or lacks its security token; reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        db.session.rollback()
        status = error.code or 500
        code = HTTP_CODES.get(status, "http_error")
        if status == 429:
            message = "Too many tickets from this address; please wait a minute. / 取号过于频繁，请稍后再试。"
        else:
            message = error.description or error.name
        return _render(status, code, message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        # Roll back so that a failed action never leaves a ticket half-changed.
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500, "internal_error", "Something went wrong on our side; please try again.")
