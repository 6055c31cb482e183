"""The quality loop over HTTP: bad ratings open cases, supervisors run them, the export for
the provincial platform carries no contact data."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from kiosk.extensions import db
from queue_engine.core.models import AuditEntry, RectificationCase, User
from queue_engine.quality.rating_export import FIELDS
from tests.web.staff_login import log_in

SECRETS = ("吴先生", "13700001111", "身份证丢失补办")


@pytest.fixture
def rated_visits(client, auth, take_ticket):
    """Two finished visits with personal data: one rated 5 with dimensions, one rated 1."""
    tokens = []
    for score in (5, 1):
        take_ticket("B")
        ticket = client.post("/api/v1/counters/3/call-next", headers=auth("clerk3")).get_json()["ticket"]
        finished = client.post(
            f"/api/v1/tickets/{ticket['token']}/finish",
            headers=auth("clerk3"),
            json={
                "outcome": "resolved",
                "customer_name": SECRETS[0],
                "contact": SECRETS[1],
                "description": SECRETS[2],
            },
        )
        assert finished.status_code == 200
        extra = {"efficiency": 4, "level": 5, "attitude": 5} if score == 5 else {"comment": "等了一个小时"}
        assert (
            client.post(
                f"/api/v1/tickets/{ticket['token']}/rating", json={"score": score, **extra}
            ).status_code
            == 201
        )
        tokens.append(ticket)
    return tokens


def test_the_export_lists_each_rating_with_its_dimensions_and_no_contact_data(client, auth, rated_visits):
    answer = client.get("/api/v1/ratings?from=2026-01-05&to=2026-01-05", headers=auth("supervisor"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["count"] == 2
    first, second = body["ratings"]
    assert set(first) == set(FIELDS)
    assert (first["visit_number"], first["level"], first["level_name"]) == (
        rated_visits[0]["number"],
        5,
        "非常满意",
    )
    assert (first["efficiency"], first["service_level"], first["attitude"]) == (4, 5, 5)
    assert (second["level"], second["level_name"], second["comment"]) == (1, "非常不满意", "等了一个小时")
    assert first["counter"] == "3" and first["service"] == "B"
    as_csv = client.get("/api/v1/ratings?from=2026-01-05&format=csv", headers=auth("admin"))
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert [r["visit_number"] for r in rows] == [r["visit_number"] for r in body["ratings"]]
    assert [int(r["level"]) for r in rows] == [5, 1]
    for secret in SECRETS:
        assert secret not in answer.get_data(as_text=True)
        assert secret not in as_csv.get_data(as_text=True)


@pytest.mark.parametrize(
    ("user", "status"), [(None, 401), ("clerk1", 403), ("supervisor", 200), ("admin", 200)]
)
def test_only_managers_export_ratings(client, auth, user, status):
    headers = auth(user) if user else {}
    assert client.get("/api/v1/ratings", headers=headers).status_code == status


def test_the_export_refuses_a_bad_range(client, auth):
    headers = auth("supervisor")
    assert client.get("/api/v1/ratings?from=2026-02-01&to=2026-01-01", headers=headers).status_code == 422
    assert client.get("/api/v1/ratings?format=xml", headers=headers).status_code == 422
    assert client.get("/api/v1/ratings?from=yesterday", headers=headers).status_code == 422


def test_a_bad_rating_becomes_a_case_a_supervisor_runs_to_the_end(app, rated_visits):
    with app.app_context():
        case = db.session.scalars(select(RectificationCase)).one()
        fixer = db.session.scalars(select(User).where(User.username == "clerk2")).one().id
    boss = app.test_client()
    csrf = log_in(boss, "supervisor")
    page = boss.get("/quality").get_data(as_text=True)
    assert rated_visits[1]["number"] in page and "等了一个小时" in page

    def post(path, **data):
        return boss.post(f"/quality/{case.id}/{path}", data=data, headers={"X-CSRFToken": csrf})

    post("assign", assignee_id=str(fixer))

    # The responsible clerk sees the case and records the rectification.
    clerk = app.test_client()
    clerk_csrf = log_in(clerk, "clerk2")
    assert rated_visits[1]["number"] in clerk.get("/quality").get_data(as_text=True)
    clerk.post(
        f"/quality/{case.id}/rectify",
        data={"finding": "高峰期人手不足", "measures": "增开 4 号窗口"},
        headers={"X-CSRFToken": clerk_csrf},
    )
    # ...but may not close it.
    assert clerk.post(f"/quality/{case.id}/close", headers={"X-CSRFToken": clerk_csrf}).status_code == 403

    post("follow-up", reached="yes", view="表示满意", re_rating="4")
    post("close")
    with app.app_context():
        done = db.session.get(RectificationCase, case.id)
        assert (done.status, done.measures, done.re_rating) == ("closed", "增开 4 号窗口", 4)
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert {"assign_rectification", "rectify", "follow_up_call", "close_rectification"} <= set(actions)


def test_another_clerk_cannot_see_a_case_not_theirs(app, rated_visits):
    with app.app_context():
        case_id = db.session.scalars(select(RectificationCase.id)).one()
    clerk = app.test_client()
    log_in(clerk, "clerk4")
    assert clerk.get(f"/quality/{case_id}").status_code == 403
    assert rated_visits[1]["number"] not in clerk.get("/quality").get_data(as_text=True)


def test_the_daily_figures_carry_the_quality_loop_and_rank_with_enough_ratings(client, auth, rated_visits):
    headers = auth("supervisor")
    answer = client.get("/api/v1/stats/daily?date=2026-01-05", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    daily = answer.get_json()
    sat = daily["totals"]["satisfaction"]
    assert (sat["ratings"], sat["bad"], sat["satisfaction_rate"]) == (2, 1, 0.5)
    assert daily["quality"]["cases"] == 1
    assert daily["ranking"]["min_ratings"] == 10 and daily["ranking"]["staff"] == []
    ranked = client.get("/api/v1/stats/daily?date=2026-01-05&min_ratings=2", headers=headers).get_json()
    assert [(r["rank"], r["username"]) for r in ranked["ranking"]["staff"]] == [(1, "clerk3")]
    assert [r["name"] for r in ranked["ranking"]["counters"]] == ["3"]


def test_cases_name_the_clerk_and_date_the_ticket_number(app, rated_visits):
    with app.app_context():
        case = db.session.scalars(select(RectificationCase)).one()
        ticket = case.visit.ticket
        clerk = db.session.get(User, case.visit.staff_id)
        clerk_name, clerk_id = clerk.display_name, clerk.id
        numbered = f"{ticket.number} · {ticket.business_date.isoformat()}"
    assert clerk_name and clerk_name != str(clerk_id)
    boss = app.test_client()
    log_in(boss, "supervisor")

    listing = boss.get("/quality").get_data(as_text=True)
    one = boss.get(f"/quality/{case.id}").get_data(as_text=True)

    assert numbered in listing and numbered in one
    assert f'<td class="clerk">{clerk_name}</td>' in listing
    assert f'<dd id="case-clerk">{clerk_name}</dd>' in one
