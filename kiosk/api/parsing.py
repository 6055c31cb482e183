"""Reading a request's JSON body and query string with its model: wrong shapes are refused first.

The answers are DESIGN §7's: 415 for a body that is not JSON, 400 for broken JSON, 422 for
anything else (a query argument holding NUL too), each naming the field.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from werkzeug.exceptions import BadRequest

from kiosk.errors import ApiError
from kiosk.security import half_surrogate, unstorable

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M]) -> M:
    """The request's JSON object as ``model``, or a 4xx ApiError."""
    raw = request.get_data()
    if not raw:
        body: Any = {}
    elif not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    else:
        try:
            body = request.get_json()
        except (BadRequest, RecursionError):  # RecursionError: JSON nested thousands deep
            raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None
        if _holds_half_surrogate(body):
            raise ApiError(400, "malformed_json", "The body holds half a surrogate pair (not text).")
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_input", "The body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise ApiError(422, "invalid_input", _body_message(error)) from None


def _holds_half_surrogate(value: Any) -> bool:
    pending = [value]
    while pending:  # no recursion: the body may be nested deep
        item = pending.pop()
        if isinstance(item, str) and half_surrogate(item):
            return True
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_query(model: type[M]) -> M:
    """The query string as ``model``, or a 422 ApiError naming the argument."""
    for name, value in request.args.items(multi=True):
        if unstorable(name) or unstorable(value):  # PostgreSQL fails on NUL rather than finding none
            raise ApiError(
                422, "invalid_input", f"The query argument {_printable(name)!r} holds a NUL character."
            )
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        first = error.errors()[0]
        raise ApiError(422, "invalid_input", f"{_name(first)} {_phrase(first)}.") from None


def _printable(name: str) -> str:
    return "".join(ch for ch in name if ch.isprintable())


def _name(error: ErrorDetails) -> str:
    return ".".join(str(part) for part in error["loc"]) or "body"


def _body_message(error: ValidationError) -> str:
    errors = error.errors()
    unknown = sorted(_name(e) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return f"Unknown field(s): {', '.join(unknown)}."
    first = errors[0]
    return f"The field {_name(first)!r} {_phrase(first)}."


KINDS = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "date_type": "must be a date as YYYY-MM-DD",
    "string_pattern_mismatch": "must not contain NUL characters",
}


def _phrase(error: ErrorDetails) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "missing" or (kind in KINDS and error["input"] is None):
        return "is required"
    if kind in KINDS:
        return KINDS[kind]
    if kind == "string_too_long":
        return f"is longer than {context['max_length']} characters"
    if kind in ("literal_error", "enum"):
        return f"must be one of: {context['expected']}"
    if kind == "value_error":
        return str(context["error"])
    return f"is not acceptable ({error['msg']})"
