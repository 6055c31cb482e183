"""Bad input on every endpoint: a 4xx JSON error, and not one row of the database changed.

One hall per database (SQLite and PostgreSQL) is set up for the module: a finished visit, a
ticket called at counter 1 by clerk1, and a waiting ticket. Every refused request is checked
against a full copy of every table taken just before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from tests.conftest import DATABASES, monday_clock
from tests.services import fresh_schema

from .conftest import build_app, dispose
from .helpers import all_rows, error_of


@dataclass
class Scene:
    """The module's hall and the tokens of its tickets and staff."""

    app: Flask
    tickets: dict[str, str]
    staff: dict[str, dict[str, str]]


@pytest.fixture(scope="module", params=DATABASES)
def scene(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """A hall with a finished visit ('done'), a called ticket ('held') and a waiting one."""
    clock = monday_clock()  # module-wide, so not the per-test ``clock`` fixture
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('bad-input') / 'web.sqlite3'}"
        else:
            url = stack.enter_context(fresh_schema(request.getfixturevalue("postgres_base_url")))
        app = build_app(url, clock)
        stack.callback(dispose, app)
        client = app.test_client()
        staff = {}
        for username in ("clerk1", "clerk2", "supervisor"):
            result = app.test_cli_runner().invoke(args=["issue-token", username])
            staff[username] = {"Authorization": f"Bearer {result.output.splitlines()[-1]}"}

        def take(service: str) -> str:
            return client.post("/api/v1/tickets", json={"service": service}).get_json()["token"]

        done = take("A")
        assert client.post("/api/v1/counters/1/call-next", headers=staff["clerk1"]).status_code == 200
        clock.advance(minutes=3)
        finished = client.post(
            f"/api/v1/tickets/{done}/finish", json={"outcome": "resolved"}, headers=staff["clerk1"]
        )
        assert finished.status_code == 200
        held = take("A")
        assert client.post("/api/v1/counters/1/call-next", headers=staff["clerk1"]).status_code == 200
        waiting = take("B")
        yield Scene(app, {"done": done, "held": held, "waiting": waiting}, staff)


MALFORMED = {"data": '{"service": "A"', "content_type": "application/json"}
NOT_AN_OBJECT = {"json": ["A"]}
FORM = {"data": "service=A", "content_type": "application/x-www-form-urlencoded"}

# id, method, path, request keywords, who, status, error code
CASES: list[tuple[str, str, str, dict[str, Any], str | None, int, str]] = [
    # POST /tickets
    ("ticket-unknown-service", "POST", "/tickets", {"json": {"service": "Z"}}, None, 404, "unknown_service"),
    ("ticket-malformed-json", "POST", "/tickets", MALFORMED, None, 400, "malformed_json"),
    ("ticket-json-list", "POST", "/tickets", NOT_AN_OBJECT, None, 422, "invalid_input"),
    ("ticket-json-string", "POST", "/tickets", {"json": "A"}, None, 422, "invalid_input"),
    (
        "ticket-json-null",
        "POST",
        "/tickets",
        {"data": "null", "content_type": "application/json"},
        None,
        422,
        "invalid_input",
    ),
    ("ticket-form-body", "POST", "/tickets", FORM, None, 415, "unsupported_media_type"),
    ("ticket-no-body", "POST", "/tickets", {}, None, 422, "invalid_input"),
    ("ticket-null-service", "POST", "/tickets", {"json": {"service": None}}, None, 422, "invalid_input"),
    ("ticket-service-number", "POST", "/tickets", {"json": {"service": 1}}, None, 422, "invalid_input"),
    ("ticket-service-long", "POST", "/tickets", {"json": {"service": "A" * 17}}, None, 422, "invalid_input"),
    ("ticket-service-nul", "POST", "/tickets", {"json": {"service": "A\x00"}}, None, 422, "invalid_input"),
    (
        "ticket-lang-number",
        "POST",
        "/tickets",
        {"json": {"service": "A", "lang": 2}},
        None,
        422,
        "invalid_input",
    ),
    (
        "ticket-lang-unknown",
        "POST",
        "/tickets",
        {"json": {"service": "A", "lang": "xx"}},
        None,
        422,
        "invalid_input",
    ),
    (
        "ticket-priority-text",
        "POST",
        "/tickets",
        {"json": {"service": "A", "priority": "yes"}},
        None,
        422,
        "invalid_input",
    ),
    (
        "ticket-unknown-field",
        "POST",
        "/tickets",
        {"json": {"service": "A", "x": 1}},
        None,
        422,
        "invalid_input",
    ),
    (
        "ticket-too-large",
        "POST",
        "/tickets",
        {"json": {"service": "A" * 70_000}},
        None,
        413,
        "payload_too_large",
    ),
    ("tickets-wrong-method", "GET", "/tickets", {}, None, 405, "method_not_allowed"),
    ("no-such-route", "GET", "/nothing-here", {}, None, 404, "not_found"),
    # GET /tickets/<token>, cancel
    ("ticket-unknown-token", "GET", "/tickets/no-such-token", {}, None, 404, "unknown_ticket"),
    ("ticket-nul-token", "GET", "/tickets/ab%00cd", {}, None, 404, "unknown_ticket"),
    ("cancel-unknown-token", "POST", "/tickets/no-such-token/cancel", {}, None, 404, "unknown_ticket"),
    (
        "cancel-unknown-field",
        "POST",
        "/tickets/{waiting}/cancel",
        {"json": {"why": "x"}},
        None,
        422,
        "invalid_input",
    ),
    ("cancel-malformed", "POST", "/tickets/{waiting}/cancel", MALFORMED, None, 400, "malformed_json"),
    ("cancel-json-list", "POST", "/tickets/{waiting}/cancel", NOT_AN_OBJECT, None, 422, "invalid_input"),
    ("cancel-called-ticket", "POST", "/tickets/{held}/cancel", {}, None, 409, "invalid_transition"),
    # POST /tickets/<token>/rating
    (
        "rating-score-text",
        "POST",
        "/tickets/{done}/rating",
        {"json": {"score": "5"}},
        None,
        422,
        "invalid_input",
    ),
    (
        "rating-score-true",
        "POST",
        "/tickets/{done}/rating",
        {"json": {"score": True}},
        None,
        422,
        "invalid_input",
    ),
    (
        "rating-score-float",
        "POST",
        "/tickets/{done}/rating",
        {"json": {"score": 4.5}},
        None,
        422,
        "invalid_input",
    ),
    ("rating-score-0", "POST", "/tickets/{done}/rating", {"json": {"score": 0}}, None, 422, "invalid_input"),
    ("rating-score-6", "POST", "/tickets/{done}/rating", {"json": {"score": 6}}, None, 422, "invalid_input"),
    ("rating-score-missing", "POST", "/tickets/{done}/rating", {"json": {}}, None, 422, "invalid_input"),
    (
        "rating-comment-1001",
        "POST",
        "/tickets/{done}/rating",
        {"json": {"score": 5, "comment": "x" * 1001}},
        None,
        422,
        "invalid_input",
    ),
    (
        "rating-comment-number",
        "POST",
        "/tickets/{done}/rating",
        {"json": {"score": 5, "comment": 5}},
        None,
        422,
        "invalid_input",
    ),
    (
        "rating-comment-nul",
        "POST",
        "/tickets/{done}/rating",
        {"json": {"score": 5, "comment": "good\x00"}},
        None,
        422,
        "invalid_input",
    ),
    (
        "rating-attitude-9",
        "POST",
        "/tickets/{done}/rating",
        {"json": {"score": 5, "attitude": 9}},
        None,
        422,
        "invalid_input",
    ),
    (
        "rating-unknown-field",
        "POST",
        "/tickets/{done}/rating",
        {"json": {"score": 5, "stars": 5}},
        None,
        422,
        "invalid_input",
    ),
    ("rating-malformed", "POST", "/tickets/{done}/rating", MALFORMED, None, 400, "malformed_json"),
    ("rating-json-list", "POST", "/tickets/{done}/rating", {"json": [5]}, None, 422, "invalid_input"),
    (
        "rating-unknown-token",
        "POST",
        "/tickets/nope/rating",
        {"json": {"score": 5}},
        None,
        404,
        "unknown_ticket",
    ),
    (
        "rating-not-finished",
        "POST",
        "/tickets/{waiting}/rating",
        {"json": {"score": 5}},
        None,
        409,
        "invalid_transition",
    ),
    # POST /counters/<id>/call-next
    ("call-next-unknown-counter", "POST", "/counters/99/call-next", {}, "clerk1", 404, "unknown_counter"),
    ("call-next-counter-0", "POST", "/counters/0/call-next", {}, "clerk1", 404, "unknown_counter"),
    ("call-next-counter-text", "POST", "/counters/one/call-next", {}, "clerk1", 404, "not_found"),
    (
        "call-next-field",
        "POST",
        "/counters/2/call-next",
        {"json": {"fast": True}},
        "clerk2",
        422,
        "invalid_input",
    ),
    ("call-next-malformed", "POST", "/counters/2/call-next", MALFORMED, "clerk2", 400, "malformed_json"),
    ("call-next-json-list", "POST", "/counters/2/call-next", NOT_AN_OBJECT, "clerk2", 422, "invalid_input"),
    ("call-next-busy", "POST", "/counters/1/call-next", {}, "clerk1", 409, "counter_busy"),
    # the other counter actions
    (
        "call-unknown-ticket",
        "POST",
        "/counters/2/call",
        {"json": {"ticket": "Z999", "reason": "elderly visitor"}},
        "clerk2",
        404,
        "unknown_ticket",
    ),
    (
        "call-no-reason",
        "POST",
        "/counters/2/call",
        {"json": {"ticket": "B001"}},
        "clerk2",
        422,
        "invalid_input",
    ),
    ("open-unknown-counter", "POST", "/counters/99/open", {}, "clerk1", 404, "unknown_counter"),
    ("open-field", "POST", "/counters/2/open", {"json": {"x": 1}}, "clerk2", 422, "invalid_input"),
    ("pause-unknown-counter", "POST", "/counters/99/pause", {}, "clerk1", 404, "unknown_counter"),
    ("resume-not-paused", "POST", "/counters/1/resume", {}, "clerk1", 409, "counter_closed"),
    (
        "close-note-4001",
        "POST",
        "/counters/1/close",
        {"json": {"handover_note": "x" * 4001}},
        "clerk1",
        422,
        "invalid_input",
    ),
    ("close-while-holding", "POST", "/counters/1/close", {}, "clerk1", 409, "counter_busy"),
    # recall, no-show, start
    ("recall-unknown-token", "POST", "/tickets/nope/recall", {}, "clerk1", 404, "unknown_ticket"),
    ("no-show-unknown-token", "POST", "/tickets/nope/no-show", {}, "clerk1", 404, "unknown_ticket"),
    ("start-unknown-token", "POST", "/tickets/nope/start", {}, "clerk1", 404, "unknown_ticket"),
    (
        "recall-field",
        "POST",
        "/tickets/{held}/recall",
        {"json": {"loud": True}},
        "clerk1",
        422,
        "invalid_input",
    ),
    ("no-show-field", "POST", "/tickets/{held}/no-show", {"json": {"x": 1}}, "clerk1", 422, "invalid_input"),
    ("start-malformed", "POST", "/tickets/{held}/start", MALFORMED, "clerk1", 400, "malformed_json"),
    ("recall-json-number", "POST", "/tickets/{held}/recall", {"json": 1}, "clerk1", 422, "invalid_input"),
    ("recall-waiting", "POST", "/tickets/{waiting}/recall", {}, "clerk1", 409, "invalid_transition"),
    ("start-done", "POST", "/tickets/{done}/start", {}, "clerk1", 409, "invalid_transition"),
    # POST /tickets/<token>/finish
    ("finish-no-outcome", "POST", "/tickets/{held}/finish", {"json": {}}, "clerk1", 422, "invalid_input"),
    (
        "finish-bad-outcome",
        "POST",
        "/tickets/{held}/finish",
        {"json": {"outcome": "great"}},
        "clerk1",
        422,
        "invalid_input",
    ),
    *[
        (
            f"finish-{name}-{limit + 1}",
            "POST",
            "/tickets/{held}/finish",
            {"json": {"outcome": "resolved", name: "x" * (limit + 1)}},
            "clerk1",
            422,
            "invalid_input",
        )
        for name, limit in (("customer_name", 128), ("contact", 128), ("description", 4000), ("notes", 4000))
    ],
    (
        "finish-name-number",
        "POST",
        "/tickets/{held}/finish",
        {"json": {"outcome": "resolved", "customer_name": 12}},
        "clerk1",
        422,
        "invalid_input",
    ),
    (
        "finish-name-nul",
        "POST",
        "/tickets/{held}/finish",
        {"json": {"outcome": "resolved", "customer_name": "Li\x00Lei"}},
        "clerk1",
        422,
        "invalid_input",
    ),
    (
        "finish-bad-due-date",
        "POST",
        "/tickets/{held}/finish",
        {"json": {"outcome": "resolved", "due_date": "tomorrow"}},
        "clerk1",
        422,
        "invalid_input",
    ),
    (
        "finish-unknown-field",
        "POST",
        "/tickets/{held}/finish",
        {"json": {"outcome": "resolved", "mood": "calm"}},
        "clerk1",
        422,
        "invalid_input",
    ),
    ("finish-malformed", "POST", "/tickets/{held}/finish", MALFORMED, "clerk1", 400, "malformed_json"),
    ("finish-json-list", "POST", "/tickets/{held}/finish", NOT_AN_OBJECT, "clerk1", 422, "invalid_input"),
    (
        "finish-unknown-token",
        "POST",
        "/tickets/nope/finish",
        {"json": {"outcome": "resolved"}},
        "clerk1",
        404,
        "unknown_ticket",
    ),
    (
        "finish-waiting",
        "POST",
        "/tickets/{waiting}/finish",
        {"json": {"outcome": "resolved"}},
        "clerk1",
        409,
        "invalid_transition",
    ),
    # POST /tickets/<token>/transfer
    (
        "transfer-unknown-service",
        "POST",
        "/tickets/{held}/transfer",
        {"json": {"service": "Z"}},
        "clerk1",
        404,
        "unknown_service",
    ),
    ("transfer-no-service", "POST", "/tickets/{held}/transfer", {"json": {}}, "clerk1", 422, "invalid_input"),
    (
        "transfer-service-number",
        "POST",
        "/tickets/{held}/transfer",
        {"json": {"service": 2}},
        "clerk1",
        422,
        "invalid_input",
    ),
    (
        "transfer-same-service",
        "POST",
        "/tickets/{held}/transfer",
        {"json": {"service": "A"}},
        "clerk1",
        422,
        "invalid_input",
    ),
    ("transfer-malformed", "POST", "/tickets/{held}/transfer", MALFORMED, "clerk1", 400, "malformed_json"),
    (
        "transfer-json-list",
        "POST",
        "/tickets/{held}/transfer",
        {"json": ["B"]},
        "clerk1",
        422,
        "invalid_input",
    ),
    (
        "transfer-unknown-token",
        "POST",
        "/tickets/nope/transfer",
        {"json": {"service": "B"}},
        "clerk1",
        404,
        "unknown_ticket",
    ),
    # GET /stats/daily
    ("stats-date-word", "GET", "/stats/daily?date=yesterday", {}, "supervisor", 422, "invalid_input"),
    ("stats-date-month-13", "GET", "/stats/daily?date=2026-13-01", {}, "supervisor", 422, "invalid_input"),
    ("stats-date-empty", "GET", "/stats/daily?date=", {}, "supervisor", 422, "invalid_input"),
    # query arguments (the contract client holds each 422 to the document)
    ("bookings-date-word", "GET", "/appointments?date=false", {}, "supervisor", 422, "invalid_input"),
    ("bookings-service-nul", "GET", "/appointments?service=A%00", {}, "supervisor", 422, "invalid_input"),
    ("slots-last-day", "GET", "/services/A/slots?date=9999-12-31", {}, None, 422, "invalid_input"),
    ("slots-first-day", "GET", "/services/A/slots?date=0001-01-01", {}, None, 422, "invalid_input"),
    ("display-services-nul", "GET", "/display?services=A%00", {}, None, 422, "invalid_input"),
]


@pytest.mark.parametrize(
    ("method", "path", "options", "who", "status", "code"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input_is_refused_and_changes_nothing(
    scene: Scene, method: str, path: str, options: dict[str, Any], who: str | None, status: int, code: str
) -> None:
    client = scene.app.test_client()
    headers = scene.staff[who] if who else {}
    before = all_rows(scene.app)

    response = client.open(
        "/api/v1" + path.format(**scene.tickets), method=method, headers=headers, **options
    )

    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert error_of(response)["code"] == code
    assert all_rows(scene.app) == before


def test_the_scene_is_what_the_cases_assume(scene: Scene) -> None:
    # Guards the table above: its refusals mean something only if these tickets are as named.
    client = scene.app.test_client()
    status = {
        name: client.get(f"/api/v1/tickets/{token}").get_json()["status"]
        for name, token in scene.tickets.items()
    }
    assert status == {"done": "done", "held": "called", "waiting": "waiting"}
