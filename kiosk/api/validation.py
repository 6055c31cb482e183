"""Reading JSON request bodies strictly: wrong shapes are refused before anything changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from kiosk.errors import ApiError


@dataclass(frozen=True)
class Field:
    """One accepted body field: its type, whether required, its limits."""

    type: type | tuple[type, ...]
    required: bool = False
    max_length: int | None = None
    choices: tuple[Any, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None


def json_body(fields: dict[str, Field]) -> dict[str, Any]:
    """The request's JSON object, checked against ``fields``; unknown keys are refused."""
    if not fields and not request.get_data():
        return {}
    if not request.is_json and request.get_data():
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        body = request.get_json() if request.get_data() else {}
    except BadRequest:
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_input", "The body must be a JSON object.")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise ApiError(422, "invalid_input", f"Unknown field(s): {', '.join(unknown)}.")
    for name, spec in fields.items():
        if name not in body or body[name] is None:
            if spec.required:
                raise ApiError(422, "invalid_input", f"The field {name!r} is required.")
            continue
        _check(name, body[name], spec)
    return body


def _check(name: str, value: Any, spec: Field) -> None:
    wanted = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    if isinstance(value, bool) and bool not in wanted or not isinstance(value, wanted):
        kinds = " or ".join(t.__name__ for t in wanted).replace("str", "text").replace("int", "whole number")
        raise ApiError(422, "invalid_input", f"The field {name!r} must be {kinds}.")
    if isinstance(value, str) and "\x00" in value:
        # PostgreSQL cannot store NUL in text; refuse it here rather than fail on write.
        raise ApiError(422, "invalid_input", f"The field {name!r} must not contain NUL characters.")
    if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
        raise ApiError(
            422, "invalid_input", f"The field {name!r} is longer than {spec.max_length} characters."
        )
    if spec.choices is not None and value not in spec.choices:
        options = ", ".join(str(c) for c in spec.choices)
        raise ApiError(422, "invalid_input", f"The field {name!r} must be one of: {options}.")
    if isinstance(value, int) and not isinstance(value, bool):
        if (
            spec.minimum is not None
            and value < spec.minimum
            or spec.maximum is not None
            and value > spec.maximum
        ):
            raise ApiError(
                422, "invalid_input", f"The field {name!r} must be from {spec.minimum} to {spec.maximum}."
            )


def query_date(name: str, default: date) -> date:
    """A YYYY-MM-DD query argument as a date, or the default."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "invalid_input", f"{name} must be a date as YYYY-MM-DD.") from None
