"""The staff pages over HTTP: who may open what, the workspace's answers, the visit record,
handover, complaints and the audit of personal data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kiosk.extensions import db
from queue_engine.core.models import AuditEntry, Complaint, CounterSession, Ticket, Visit
from tests.web.staff_login import log_in, page_csrf

WHO = ["anonymous", "clerk1", "clerk_elsewhere", "supervisor", "admin"]


@pytest.fixture
def people(app, runner):
    """The demo staff, plus a clerk granted counter 2 only ("clerk of another counter")."""
    result = runner.invoke(
        args=["create-user", "clerk_elsewhere", "--role", "clerk", "--counters", "2"],
        env={"QMS_NEW_USER_PASSWORD": "elsewhere-pass"},
    )
    assert result.exit_code == 0, result.output

    def client_for(who):
        client = app.test_client()
        csrf = page_csrf(client)  # even an anonymous visitor's form carries a token
        if who != "anonymous":
            password = "elsewhere-pass" if who == "clerk_elsewhere" else None
            csrf = log_in(client, who, password) if password else log_in(client, who)
        return client, csrf

    return client_for


# (method, path, allowed for) — "allowed" means the page or action is served (not 401/403/redirect).
ROUTES = [
    ("GET", "/counter", {"clerk1", "clerk_elsewhere", "supervisor", "admin"}),
    ("GET", "/counter/1", {"clerk1", "supervisor", "admin"}),
    ("GET", "/counter/1/panel", {"clerk1", "supervisor", "admin"}),
    ("GET", "/counter/1/rate", {"clerk1", "supervisor", "admin"}),
    ("POST", "/counter/1/open", {"clerk1", "supervisor", "admin"}),
    ("POST", "/counter/1/act/pause", {"clerk1", "supervisor", "admin"}),
    ("GET", "/counter/1/finish", {"clerk1", "supervisor", "admin"}),
    ("GET", "/visits", {"clerk1", "clerk_elsewhere", "supervisor", "admin"}),
    ("GET", "/visits.csv", {"supervisor", "admin"}),
    ("GET", "/complaints", {"clerk1", "clerk_elsewhere", "supervisor", "admin"}),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "path", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_permission_matrix_of_the_staff_pages(people, who, method, path, allowed):
    client, csrf = people(who)
    headers = {"X-CSRFToken": csrf}
    answer = client.open(path, method=method, headers=headers)
    if who == "anonymous":
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    elif who in allowed:
        assert answer.status_code in (200, 302, 409), answer.status_code
        assert "/login" not in answer.headers.get("Location", "")
    else:
        assert answer.status_code == 403


def test_forms_need_their_csrf_token(people):
    client, _csrf = people("clerk1")
    assert client.post("/counter/1/open").status_code == 400
    assert client.post("/counter/1/act/call-next").status_code == 400


def test_the_workspace_calls_and_a_refused_action_shows_a_message_and_the_fresh_state(
    app, people, take_ticket
):
    take_ticket("A")
    client, csrf = people("clerk1")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    assert client.post("/counter/1/open", headers=headers).status_code == 302
    called = client.post("/counter/1/act/call-next", headers=headers).get_data(as_text=True)
    assert 'id="current-number">A001<' in called
    again = client.post("/counter/1/act/call-next", headers=headers)
    assert again.status_code == 409
    assert "still holding" in again.get_data(as_text=True)
    assert 'id="current-number">A001<' in again.get_data(as_text=True)
    # A button pressed on a stale screen (another ticket) changes nothing.
    stale = client.post("/counter/1/act/no-show", data={"token": "not-the-held-one"}, headers=headers)
    assert stale.status_code == 409
    with app.app_context():
        assert db.session.scalars(select(Ticket.status)).one() == "called"


def test_the_visit_record_keeps_what_was_typed_and_a_complaint_opens_a_complaint(app, people, take_ticket):
    take_ticket("C")
    client, csrf = people("clerk1")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    client.post("/counter/1/open", headers=headers)
    client.post("/counter/1/act/call-next", headers=headers)
    with app.app_context():
        token = db.session.scalars(select(Ticket.token)).one()
    form = {
        "token": token,
        "outcome": "resolved",
        "customer_name": "孙先生",
        "contact": "138",
        "department": "",
        "description": "投诉窗口态度",
        "notes": "",
        "priority": "high",
        "due_date": "",
    }
    refused = client.post("/counter/1/finish", data=form, headers=headers)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "responsible department" in html and 'value="孙先生"' in html and "投诉窗口态度" in html
    with app.app_context():
        assert db.session.scalars(select(Visit)).all() == []
    form["department"] = "督查科"
    form["due_date"] = "2026-01-20"
    done = client.post("/counter/1/finish", data=form, headers=headers)
    assert done.status_code == 200 and "C001" in done.get_data(as_text=True)
    with app.app_context():
        complaint = db.session.scalars(select(Complaint)).one()
        assert (complaint.department, complaint.priority, str(complaint.due_date)) == (
            "督查科",
            "high",
            "2026-01-20",
        )
        assert complaint.visit.customer_name == "孙先生"
    # The supervisor's complaint list names the visitor masked, as every list does.
    boss, _ = people("supervisor")
    listed = boss.get("/complaints").get_data(as_text=True)
    assert "孙**" in listed and "孙先生" not in listed


def test_the_next_clerk_sees_the_handover_note_and_open_follow_ups(app, people, take_ticket):
    take_ticket("A")
    first, csrf = people("clerk1")
    headers = {"X-CSRFToken": csrf}
    first.post("/counter/1/open", headers=headers)
    first.post("/counter/1/act/call-next", headers=headers)
    with app.app_context():
        token = db.session.scalars(select(Ticket.token)).one()
    first.post(
        "/counter/1/finish",
        headers=headers,
        data={
            "token": token,
            "outcome": "follow_up",
            "customer_name": "",
            "contact": "",
            "department": "",
            "description": "",
            "notes": "",
            "priority": "normal",
            "due_date": "",
        },
    )
    first.post("/counter/1/close", headers=headers, data={"handover_note": "打印机缺纸，已报修"})
    with app.app_context():
        duty = db.session.scalars(select(CounterSession)).one()
        assert duty.closed_at is not None and duty.handover_note == "打印机缺纸，已报修"
    second, _ = people("supervisor")
    page = second.get("/counter/1").get_data(as_text=True)
    assert "打印机缺纸，已报修" in page
    assert "Open follow-ups · 待回访 (1)" in page


def test_clerks_see_only_their_own_visits_and_every_view_is_audited(app, people, take_ticket, auth, client):
    take_ticket("A")
    ticket = client.post("/api/v1/counters/1/call-next", headers=auth("clerk1")).get_json()["ticket"]
    client.post(
        f"/api/v1/tickets/{ticket['token']}/finish",
        headers=auth("clerk1"),
        json={"outcome": "resolved", "customer_name": "周先生"},
    )
    own, _ = people("clerk1")
    listed = own.get("/visits?from=2026-01-05").get_data(as_text=True)
    # The list shows the name masked (its owner recognises it); the audited export has it whole.
    assert "周**" in listed and "周先生" not in listed
    other, _ = people("clerk_elsewhere")
    assert "周**" not in other.get("/visits?from=2026-01-05").get_data(as_text=True)
    boss, _ = people("supervisor")
    exported = boss.get("/visits.csv?from=2026-01-05")
    assert "周先生" in exported.get_data(as_text=True)
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        visit_id = db.session.scalars(select(Visit.id)).one()
        actions = [(e.action, e.after["visit_ids"]) for e in entries]
    assert ("view_visits", [visit_id]) in actions
    assert ("export_visits", [visit_id]) in actions
    # The clerk who saw nothing of it left no audit row naming it.
    assert len([a for a in actions if a[0] == "view_visits"]) == 1


def test_a_session_ends_after_inactivity(app_factory):
    import time

    app = app_factory(PERMANENT_SESSION_LIFETIME=1)
    client = app.test_client()
    log_in(client, "clerk1")
    assert client.get("/counter").status_code == 200
    time.sleep(2.2)  # idle longer than the session lifetime
    answer = client.get("/counter")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
