"""Errors as the outside sees them: JSON under /api, a friendly page elsewhere."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, flash, jsonify, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from kiosk.auth import safe_next
from kiosk.extensions import db
from kiosk.htmx import is_htmx
from kiosk.refusals import staff_message
from queue_engine.core.errors import QueueError

# What a page says for an HTTP error, in both languages (the API keeps its English messages).
PAGE_MESSAGES = {
    400: "请求有误，请返回重试。 · The request could not be understood; please go back and try again.",
    403: "您没有权限进行此操作。 · You are not allowed to do this.",
    404: "找不到这个页面，请检查链接。 · This page does not exist; please check the link.",
    405: "不能这样操作这个页面。 · This page cannot be used this way.",
    413: "提交的内容过大。 · What was sent is too large.",
    503: "系统正在恢复，请稍候片刻再试。 · The system is getting back on its feet; please wait a moment "
    "and try again.",
    500: "系统出错了，请稍后再试；如仍有问题请联系管理员。 · Something went wrong on our side; "
    "please try again.",
}

DATABASE_UNAVAILABLE = "The database is unavailable for a moment; please retry shortly."
RETRY_AFTER_S = 5

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


def _render(status: int, code: str, message: str, page_message: str | None = None) -> Any:
    if _wants_json():
        return error_body(code, message, status)
    shown = page_message or message
    return render_template("error.html", status=status, code=code, message=shown), status


STAFF_BLUEPRINTS = {"admin", "counter", "supervisor", "records", "quality"}
SESSION_EXPIRED = "会话已过期，请重新登录 · Session expired, please log in"
RESTORE_KEY = "restore_form"
RESTORE_MAX_CHARS = 1500  # the session is a cookie: what was typed must fit in it


def _lapsed_staff_form() -> bool:
    """A staff form posted after its session lapsed (its CSRF token went with the session)."""
    area = (request.blueprint or "").split(".")[0]
    return request.method == "POST" and area in STAFF_BLUEPRINTS and not current_user.is_authenticated


def _typed_fields() -> dict[str, list[str]]:
    kept: dict[str, list[str]] = {}
    room = RESTORE_MAX_CHARS
    for name in request.form:
        if name == "csrf_token" or "password" in name or "token" in name:
            continue  # secrets are typed again, never kept in a cookie
        values = request.form.getlist(name)
        size = len(name) + sum(len(v) for v in values)
        if size > room:
            continue
        room -= size
        kept[name] = values
    return kept


def _log_in_again() -> Any:
    """Send the member of staff to log in, then back to the form with what they typed."""
    referrer = urlsplit(request.referrer or "")
    same_site = not referrer.netloc or referrer.netloc == request.host
    page = (safe_next(referrer.path) if same_site else None) or request.path
    session[RESTORE_KEY] = {"page": page, "action": request.path, "fields": _typed_fields()}
    flash(SESSION_EXPIRED)
    target = url_for("auth.login", next=page)
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def restored_form() -> dict[str, Any] | None:
    """What a member of staff typed before their session lapsed, once, on the page it belongs to."""
    kept = session.get(RESTORE_KEY)
    if not kept or kept.get("page") != request.path or not current_user.is_authenticated:
        return None
    session.pop(RESTORE_KEY, None)
    return {"action": kept.get("action", ""), "fields": kept.get("fields", {})}


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.context_processor(lambda: {"restored_form": restored_form})

    @app.errorhandler(QueueError)
    def _queue_error(error: QueueError) -> Any:
        db.session.rollback()
        return _render(STATUS_BY_KIND.get(error.kind, 409), error.code, error.message, staff_message(error))

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Any:
        db.session.rollback()
        return _render(error.status, error.code, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Any:
        db.session.rollback()
        if _lapsed_staff_form():
            return _log_in_again()
        return _render(
            400, "csrf_failed", "The form expired or lacks its security token; reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        db.session.rollback()
        status = error.code or 500
        code = HTTP_CODES.get(status, "http_error")
        if status == 429 and request.endpoint == "auth.login":
            message = (
                "Too many failed log-ins from this address; please wait. / 登录失败次数过多，请稍后再试。"
            )
        elif status == 429:
            message = "Too many tickets from this address; please wait a minute. / 取号过于频繁，请稍后再试。"
        else:
            message = error.description or error.name
        return _render(status, code, message, PAGE_MESSAGES.get(status))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(error: DBAPIError) -> Any:
        # The database is unreachable (restarting, network): nothing was written (rolled back);
        # the client is told to retry soon, not that something broke.
        try:
            db.session.rollback()
        except Exception:  # the connection is gone: nothing to roll back
            db.session.close()
        app.logger.error("Database unavailable on %s %s: %s", request.method, request.path, error.orig)
        answer = _render(503, "database_unavailable", DATABASE_UNAVAILABLE, PAGE_MESSAGES[503])
        response = make_response(answer)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        # Roll back so that a failed action never leaves a ticket half-changed.
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(
            500, "internal_error", "Something went wrong on our side; please try again.", PAGE_MESSAGES[500]
        )
