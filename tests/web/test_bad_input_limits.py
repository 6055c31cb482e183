"""Finding 9: inputs that gave 500s now give 4xx: ids beyond a column's range, NUL bytes in
page filters and forms, JSON nested thousands deep or holding half a surrogate pair."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.web.staff_login import log_in


@pytest.fixture
def app(database_url, app_factory):
    """The demo hall on SQLite and on PostgreSQL (where NUL and big ids used to fail)."""
    return app_factory(database_url)


@pytest.fixture
def plain(app):
    """A client that may see any status (the contract client refuses undocumented ones)."""
    return FlaskClient(app, app.response_class)


@pytest.mark.parametrize(
    "path", ["/counter/2147483648", "/quality/99999999999", "/api/v1/counters/2147483648/call-next"]
)
def test_an_id_beyond_the_columns_range_is_not_found(plain, auth, path):
    method = plain.post if path.endswith("call-next") else plain.get
    answer = method(path, headers=auth("supervisor"))
    assert answer.status_code == 404


def test_a_nul_in_a_page_filter_or_form_is_refused(app, plain):
    assert plain.get("/visits?from=2026-01-05%00").status_code == 400
    csrf = log_in(plain, "clerk1")
    assert plain.post("/counter/1/open", data={"csrf_token": csrf}).status_code in (200, 302)
    closed = plain.post("/counter/1/close", data={"handover_note": "打印机\x00缺纸", "csrf_token": csrf})
    assert closed.status_code == 400


def test_json_nested_too_deep_or_with_half_a_surrogate_is_refused(plain):
    deep = "[" * 30000 + "]" * 30000
    answer = plain.post("/api/v1/tickets", data=deep, content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "malformed_json"
    lone = '{"service": "A", "language": "\\ud800"}'
    answer = plain.post("/api/v1/tickets", data=lone, content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(
    "query",
    ["to=9999-12-31", "from=0001-01-01", "user=%C2%B3", "user=99999999999"],
    ids=["last", "first", "³", "big"],
)
def test_the_audit_filter_at_the_calendars_ends_answers(plain, query):
    log_in(plain, "admin")
    assert plain.get(f"/admin/audit?{query}").status_code == 200


def test_a_superscript_digit_in_the_boards_counters_is_left_out_not_a_500(client):
    page = client.get("/display?counters=%C2%B3,1")
    api = client.get("/api/v1/display?counters=%C2%B3,1")

    assert page.status_code == 200
    assert api.status_code == 200
    assert [c["id"] for c in api.get_json()["counters"]] == [1]


@pytest.mark.parametrize("counter", ["%C2%B3", "2147483648", "99999999999999999999999"])
@pytest.mark.parametrize("page", ["/supervisor/reports", "/supervisor/reports.csv", "/supervisor/staffing"])
def test_a_report_filter_naming_no_counter_is_refused(plain, page, counter):
    log_in(plain, "supervisor")
    answer = plain.get(f"{page}?counter={counter}")
    assert answer.status_code == 422, answer.get_data(as_text=True)[:200]


def test_a_superscript_ranking_threshold_falls_back_to_the_setting(plain, auth):
    answer = plain.get("/api/v1/stats/daily?min_ratings=%C2%B3", headers=auth("supervisor"))
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "path", ["/t/ab%00cd", "/t/ab%00cd/calls", "/b/ab%00cd", "/b/ab%00cd/move", "/book/ab%00cd"]
)
def test_a_nul_in_a_pages_link_names_nothing(plain, path):
    assert plain.get(path).status_code == 404
