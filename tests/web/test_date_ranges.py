"""The report page, the ratings export, the visit records and /api/v1/stats share one range rule."""

from __future__ import annotations

import html

import pytest

from queue_engine.core.dates import FROM_AFTER_TO, NOT_A_DATE, TOO_LONG
from tests.web.helpers import error_of
from tests.web.staff_login import log_in

DAYS_366 = "from=2025-01-06&to=2026-01-06"
DAYS_367 = "from=2025-01-05&to=2026-01-06"


@pytest.fixture
def supervisor(app):
    browser = app.test_client()
    log_in(browser, "supervisor")
    return browser


@pytest.mark.parametrize("path", ["/supervisor/reports", "/supervisor/reports.csv", "/visits"])
def test_pages_take_366_days_and_refuse_367(supervisor, path):
    assert supervisor.get(f"{path}?{DAYS_366}").status_code == 200
    assert supervisor.get(f"{path}?{DAYS_367}").status_code == 422


def test_the_ratings_export_takes_366_days_and_refuses_367(client, auth):
    headers = auth("supervisor")
    assert client.get(f"/api/v1/ratings?{DAYS_366}", headers=headers).status_code == 200
    refused = client.get(f"/api/v1/ratings?{DAYS_367}", headers=headers)
    assert refused.status_code == 422
    assert error_of(refused) == {"code": "invalid_input", "message": f"to: {TOO_LONG}"}


def test_the_daily_statistics_refuse_what_is_not_a_date(client, auth):
    refused = client.get("/api/v1/stats/daily?date=2026-13-01", headers=auth("supervisor"))
    assert refused.status_code == 422
    assert error_of(refused) == {"code": "invalid_input", "message": f"date: {NOT_A_DATE}"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-01-05&to=2026-01-01", FROM_AFTER_TO),
        (DAYS_367, TOO_LONG),
        ("from=yesterday", NOT_A_DATE),
    ],
)
def test_the_report_page_explains_a_bad_period_on_the_same_page(supervisor, query, message):
    answer = supervisor.get(f"/supervisor/reports?{query}")
    assert answer.status_code == 422
    page = html.unescape(answer.get_data(as_text=True))
    assert message in page  # both languages, in one sentence each
    assert 'id="report-filters"' in page  # the filters, to correct the dates right here
    assert 'id="volumes"' not in page
    if query.startswith("from=2026-01-05"):
        assert 'name="from" value="2026-01-05"' in page and 'name="to" value="2026-01-01"' in page
