"""``@api_route``: one declaration per /api/v1 view of what it takes and answers.

Flask keeps the routing (``@bp.post(...)`` above it); the declaration parses the body and query
string with their models (after the caller's role is checked, before the view runs), passes them
to the view as ``body=`` and ``query=``, and is what the OpenAPI document is generated from.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from pydantic import BaseModel

from kiosk.api.parsing import parse_body, parse_query
from kiosk.auth import STAFF_ROLES, roles_required

F = TypeVar("F", bound=Callable[..., Any])
View = Callable[..., Any]

# What an operation may answer beyond its own errors, and why (the document's descriptions).
BODY_ERRORS = {
    400: "malformed_json; csrf_failed for a cookie-authenticated call without X-CSRFToken",
    413: "payload_too_large",
    415: "unsupported_media_type: send application/json",
    422: "invalid_input: a field is missing, of the wrong type or out of range",
}
QUERY_ERRORS = {422: "invalid_input: a query argument is of the wrong form, out of range or holds NUL"}
STAFF_ERRORS = {401: "unauthorized: not logged in, or no valid bearer token"}
ROLE_ERROR = "forbidden: the caller's role does not allow this"


@dataclass(frozen=True)
class Operation:
    """What one view takes and answers."""

    summary: str
    answers: Mapping[int, Any]
    errors: Mapping[int, str]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    roles: tuple[str, ...] = ()
    csv: bool = False
    description: str = ""

    def error_statuses(self) -> dict[int, str]:
        """Every error status the operation answers, with the codes it uses."""
        found: dict[int, str] = {}
        if self.roles:
            found.update(STAFF_ERRORS)
            if set(self.roles) != set(STAFF_ROLES):
                found[403] = ROLE_ERROR
        if self.query is not None:
            found.update(QUERY_ERRORS)
        if self.body is not None:
            found.update(BODY_ERRORS)
        for status, codes in self.errors.items():
            found[status] = f"{found[status]}; {codes}" if status in found else codes
        return dict(sorted(found.items()))


def api_route(
    *,
    answers: Mapping[int, Any],
    errors: Mapping[int, str] | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    roles: Sequence[str] = (),
    csv: bool = False,
) -> Callable[[F], F]:
    """Declare a view's contract: ``answers`` maps success statuses to answer types (None: no
    content), ``errors`` error statuses to the codes used; ``roles`` are checked first (401/403),
    then ``body`` and ``query`` are parsed (400/415/422) and passed to the view."""

    def decorate(view: F) -> F:
        doc = (inspect.getdoc(view) or "").replace("``", "`")  # reST literals as Markdown
        summary, _, rest = doc.partition("\n")
        operation = Operation(
            summary=summary.strip(),
            description=rest.strip(),
            answers=dict(answers),
            errors=dict(errors or {}),
            body=body,
            query=query,
            roles=tuple(roles),
            csv=csv,
        )

        @wraps(view)
        def parsed(*args: Any, **kwargs: Any) -> Any:
            if body is not None:
                kwargs["body"] = parse_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            return view(*args, **kwargs)

        wrapped = roles_required(*roles)(parsed) if roles else parsed
        wrapped.api_operation = operation  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The declaration a view wears, through any decorators put over it."""
    current: Any = view
    while current is not None:
        found = current.__dict__.get("api_operation")
        if isinstance(found, Operation):
            return found
        current = getattr(current, "__wrapped__", None)
    return None
