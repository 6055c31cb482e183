"""schemathesis against the served /api/v1/openapi.json, in process (issue 16, Must-have 3; finding 9).

Every operation of the document is fuzzed with a bounded number of cases, valid and invalid
(positive and negative generation), derandomized so each run sends the same requests: without
credentials, with a supervisor's API token, and with an admin's on the admin-only operations; on
SQLite, and with the supervisor's token on PostgreSQL (NUL bytes and 2^31 ids used to fail there
only). A path parameter is now and then one that names something real (a ticket, a booking, a
counter, a service, a rating tablet, a webhook), so that cases reach past the look-up into the
engine.

Each answer must be no 5xx, a documented status, of a documented content type and, where the
document gives a schema, fit it; and every 4xx must carry DESIGN §7's error shape. Failures are
gathered across all cases (no shrinking: the first case of each kind is shown, as curl) and the
test fails listing them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import monday_clock

from .conftest import build_app, dispose

EXAMPLES = 12  # per operation and run (the suite stays under 15 minutes)
EXAMPLES_ON_POSTGRESQL = 10  # slower per request
ADMIN_ONLY = "/webhooks"


def error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx is {"error": {"code", "message"}}, both non-empty text (DESIGN §7)."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.text[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(body, dict) and set(body) == {"error"} and isinstance(error, dict), body
    assert set(error) == {"code", "message"}, body
    assert all(isinstance(error[k], str) and error[k] for k in ("code", "message")), body
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


def real_values(app: Flask) -> dict[str, list[Any]]:
    """Path values that name something in the hall, by parameter name (``token``: of a ticket)."""
    client = app.test_client()
    tickets = [client.post("/api/v1/tickets", json={"service": code}).get_json()["token"] for code in "AABB"]
    bookings = []
    for phone, day in (("13812345678", "2026-01-05"), ("13912345678", "2026-01-06")):
        slots = client.get(f"/api/v1/services/A/slots?date={day}").get_json()
        start = next(slot["start"] for slot in slots if slot["open"] and slot["free"])
        booked = client.post(
            "/api/v1/appointments", json={"service": "A", "start": start, "name": "张三", "phone": phone}
        )
        bookings.append(booked.get_json()["token"])
    tablet = app.test_cli_runner().invoke(args=["register-tablet", "fuzz", "--counter", "1"])
    hook = app.test_cli_runner().invoke(
        args=["webhook", "add", "http://127.0.0.1:9/hook", "--events", "ticket.called"]
    )
    assert tablet.exit_code == 0 and hook.exit_code == 0, (tablet.output, hook.output)
    hooks = client.get("/api/v1/webhooks", headers=bearer(app, "admin")).get_json()
    return {
        "token": tickets,
        "appointment": bookings,
        "counter_id": [1, 2, 3],
        "code": ["A", "B"],
        "device": [tablet.output.splitlines()[-1].removeprefix("/rate/")],
        "subscription_id": [hook["id"] for hook in hooks],
    }


def _known(operation: APIOperation, name: str) -> str:
    return "appointment" if name == "token" and operation.path.startswith("/appointments") else name


def fuzz(
    app: Flask,
    known: dict[str, list[Any]],
    headers: dict[str, str],
    only: str | None = None,
    examples: int = EXAMPLES,
) -> tuple[Counter[str], dict[Any, str]]:
    """Fuzz each operation (under ``only`` if given): the requests sent per operation, the failures."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    sent: Counter[str] = Counter()
    failures: dict[Any, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if only is None or operation.path.startswith(only):
            _fuzz_operation(operation, headers, known, examples, sent, failures)
    return sent, failures


def _fuzz_operation(
    operation: APIOperation,
    headers: dict[str, str],
    known: dict[str, list[Any]],
    examples: int,
    sent: Counter[str],
    failures: dict[Any, str],
) -> None:
    cases = st.one_of([operation.as_strategy(generation_mode=mode) for mode in GenerationMode])

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # failures are gathered, never raised: nothing to shrink
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, real=st.booleans(), pick=st.integers(0, 99))
    def send(case: Case, real: bool, pick: int) -> None:
        if real:
            for name in list(case.path_parameters or {}):
                values = known.get(_known(operation, name))
                if values:
                    case.path_parameters[name] = values[pick % len(values)]
        response = case.call(headers=headers)
        sent[operation.label] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as caught:
            found = caught.exceptions if isinstance(caught, FailureGroup) else [caught]
            for failure in found:
                key = (operation.label, failure.title, response.status_code)
                failures.setdefault(
                    key,
                    f"{case.as_curl_command(headers=headers)}\n  {failure.message}\n  {response.text[:300]}",
                )

    send()


def report(failures: dict[Any, str]) -> str:
    """The failures, one paragraph each."""
    return "\n\n".join(
        f"{label}: {title} ({status})\n  {curl}" for (label, title, status), curl in failures.items()
    )


@dataclass
class Hall:
    """An app with the demo hall, and path values that name something in it."""

    app: Flask
    known: dict[str, list[Any]]


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    """The demo hall on SQLite, shared by the module's runs (a run leaves tickets behind: no matter)."""
    app = build_app(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'web.sqlite3'}", monday_clock())
    yield Hall(app, real_values(app))
    dispose(app)


def bearer(app: Flask, username: str) -> dict[str, str]:
    """Authorization headers with a fresh API token."""
    result = app.test_cli_runner().invoke(args=["issue-token", username])
    return {"Authorization": f"Bearer {result.output.splitlines()[-1]}"}


def operations(app: Flask, only: str | None = None) -> set[str]:
    """The labels ("GET /display") of the served document's operations (under ``only`` if given).

    All but the document itself, which schemathesis leaves out (it takes no input).
    """
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    labels = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    labels.remove("GET /openapi.json")
    return {label for label in labels if only is None or label.split()[1].startswith(only)}


def test_every_operation_without_credentials_answers_as_documented(hall):
    sent, failures = fuzz(hall.app, hall.known, {})

    assert set(sent) == operations(hall.app)
    assert not failures, report(failures)


def test_every_operation_with_a_supervisors_token_answers_as_documented(hall):
    sent, failures = fuzz(hall.app, hall.known, bearer(hall.app, "supervisor"))

    assert set(sent) == operations(hall.app)
    assert not failures, report(failures)


def test_the_admin_only_operations_with_an_admins_token_answer_as_documented(hall):
    sent, failures = fuzz(hall.app, hall.known, bearer(hall.app, "admin"), only=ADMIN_ONLY)

    assert set(sent) == operations(hall.app, only=ADMIN_ONLY) != set()
    assert not failures, report(failures)


@pytest.mark.postgres
def test_every_operation_on_postgresql_with_a_supervisors_token_answers_as_documented(postgres_database_url):
    app = build_app(postgres_database_url, monday_clock())
    try:
        sent, failures = fuzz(
            app, real_values(app), bearer(app, "supervisor"), examples=EXAMPLES_ON_POSTGRESQL
        )
        documented = operations(app)
    finally:
        dispose(app)

    assert set(sent) == documented
    assert not failures, report(failures)


def test_the_fuzzing_finds_a_500_and_a_refusal_without_the_error_shape():
    # The harness itself: a tiny API whose document is right but whose answers are not.
    app = Flask("broken")
    document = {
        "openapi": "3.1.0",
        "info": {"title": "broken", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/things/{thing}": {
                "get": {
                    "parameters": [
                        {"name": "thing", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "a thing"}, "404": {"description": "none"}},
                }
            }
        },
    }
    app.add_url_rule("/api/v1/openapi.json", "document", lambda: document)
    app.add_url_rule("/api/v1/things/<thing>", "thing", lambda thing: ("no", 404) if thing else ("", 200))
    app.add_url_rule("/api/v1/things/boom", "boom", lambda: ({"error": "boom"}, 500))

    sent, failures = fuzz(app, {"thing": ["boom", "x"]}, {})

    titles = {title for _, title, _ in failures}
    assert sum(sent.values()) > 0
    assert "Server error" in titles
    assert "Custom check failed: `error_shape`" in titles
