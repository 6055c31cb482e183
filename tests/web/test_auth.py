"""Who may do what: 401 for anonymous callers, 403 for the wrong role or counter, tokens, CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update
from werkzeug.security import check_password_hash

from kiosk.extensions import db
from queue_engine.core.models import User

from .conftest import DEMO_PASSWORD
from .helpers import PUBLIC, all_rows, api_routes, error_of

# The staff routes DESIGN §7 names; the app may have more, and each must refuse strangers too.
STAFF = {
    ("POST", "/api/v1/counters/{counter_id}/call-next"),
    ("POST", "/api/v1/tickets/{token}/recall"),
    ("POST", "/api/v1/tickets/{token}/no-show"),
    ("POST", "/api/v1/tickets/{token}/start"),
    ("POST", "/api/v1/tickets/{token}/finish"),
    ("POST", "/api/v1/tickets/{token}/transfer"),
    ("GET", "/api/v1/stats/daily"),
}


def login(client, username: str, password: str = DEMO_PASSWORD) -> str:
    """Log in through the staff form; returns the CSRF token the form carried."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return csrf


def test_every_staff_endpoint_answers_401_to_anonymous_callers(app, client, take_ticket, call_next):
    routes = api_routes(app)
    assert STAFF <= routes
    held = take_ticket("A")["token"]
    call_next(1)
    before = all_rows(app)

    for method, path in sorted(routes - PUBLIC):
        url = path.format(token=held, counter_id=1, subscription_id=1)
        response = client.open(url, method=method, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert error_of(response)["code"] == "unauthorized"

    assert all_rows(app) == before


@pytest.mark.parametrize(
    "header",
    ["Bearer qms_not-a-real-token", "Bearer ", "Token qms_x", "qms_x"],
    ids=["unknown-token", "empty-token", "other-scheme", "no-scheme"],
)
def test_a_bad_authorization_header_is_anonymous(client, header):
    response = client.get("/api/v1/counters", headers={"Authorization": header})

    assert response.status_code == 401
    error_of(response)


def test_daily_stats_are_for_supervisors_and_admins(client, auth):
    refused = client.get("/api/v1/stats/daily", headers=auth("clerk1"))

    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"
    assert client.get("/api/v1/stats/daily", headers=auth("supervisor")).status_code == 200
    assert client.get("/api/v1/stats/daily", headers=auth("admin")).status_code == 200


ACTIONS = [
    ("recall", None),
    ("no-show", None),
    ("start", None),
    ("finish", {"outcome": "resolved"}),
    ("transfer", {"service": "B"}),
]


@pytest.mark.parametrize(("action", "body"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_a_clerk_cannot_act_on_a_ticket_held_at_another_clerks_counter(
    app, client, auth, take_ticket, call_next, action, body
):
    ticket = take_ticket("A")
    assert call_next(1, "clerk1").status_code == 200
    other_clerk = auth("clerk2")
    before = all_rows(app)

    response = client.post(f"/api/v1/tickets/{ticket['token']}/{action}", json=body, headers=other_clerk)

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert all_rows(app) == before
    # The clerk on duty there may.
    allowed = client.post(f"/api/v1/tickets/{ticket['token']}/{action}", json=body, headers=auth("clerk1"))
    assert allowed.status_code == 200


def test_a_supervisor_may_step_in_at_any_counter(client, auth, take_ticket, call_next):
    ticket = take_ticket("A")
    call_next(1, "clerk1")

    response = client.post(f"/api/v1/tickets/{ticket['token']}/recall", headers=auth("supervisor"))

    assert response.status_code == 200
    assert response.get_json()["call_count"] == 2


def test_a_clerk_cannot_call_at_a_counter_not_granted(app, client, runner, token_for, take_ticket):
    created = runner.invoke(
        args=["create-user", "newclerk", "--role", "clerk", "--counters", "3"],
        env={"QMS_NEW_USER_PASSWORD": "long-enough-1"},
    )
    assert created.exit_code == 0, created.output
    bare = runner.invoke(
        args=["create-user", "nocounters", "--role", "clerk"], env={"QMS_NEW_USER_PASSWORD": "long-enough-2"}
    )
    assert bare.exit_code == 0, bare.output
    take_ticket("A")
    headers = {user: token_for(user) for user in ("nocounters", "newclerk")}
    before = all_rows(app)

    for user, counter_id in (("nocounters", 1), ("nocounters", 3), ("newclerk", 1)):
        response = client.post(f"/api/v1/counters/{counter_id}/call-next", headers=headers[user])
        assert response.status_code == 403, (user, counter_id)
        assert error_of(response)["code"] == "forbidden"
    assert all_rows(app) == before

    assert client.get("/api/v1/counters", headers=headers["nocounters"]).get_json() == []
    mine = client.get("/api/v1/counters", headers=headers["newclerk"]).get_json()
    assert [c["id"] for c in mine] == [3]
    assert client.post("/api/v1/counters/3/call-next", headers=headers["newclerk"]).status_code == 200


def test_a_replaced_token_stops_working(client, runner):
    first = runner.invoke(args=["issue-token", "clerk1"]).output.splitlines()[-1]
    old = {"Authorization": f"Bearer {first}"}
    assert client.get("/api/v1/counters", headers=old).status_code == 200

    second = runner.invoke(args=["issue-token", "clerk1"]).output.splitlines()[-1]

    assert second != first
    refused = client.get("/api/v1/counters", headers=old)
    assert refused.status_code == 401
    error_of(refused)
    assert client.get("/api/v1/counters", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_a_deactivated_users_token_and_session_stop_working(app, client, auth):
    headers = auth("clerk1")
    browser = app.test_client()
    login(browser, "clerk1")
    assert browser.get("/api/v1/counters").status_code == 200

    with app.app_context():
        db.session.execute(update(User).where(User.username == "clerk1").values(active=False))
        db.session.commit()

    assert client.get("/api/v1/counters", headers=headers).status_code == 401
    assert browser.get("/api/v1/counters").status_code == 401


def test_cookie_api_calls_need_the_csrf_token(app, take_ticket):
    browser = app.test_client()
    csrf = login(browser, "clerk1")
    take_ticket("A")
    assert browser.get("/api/v1/counters").status_code == 200  # reading needs no token
    before = all_rows(app)

    forged = browser.post("/api/v1/counters/1/call-next")

    assert forged.status_code == 400
    assert error_of(forged)["code"] == "csrf_failed"
    assert all_rows(app) == before
    wrong = browser.post("/api/v1/counters/1/call-next", headers={"X-CSRFToken": "not-the-token"})
    assert wrong.status_code == 400
    assert all_rows(app) == before

    genuine = browser.post("/api/v1/counters/1/call-next", headers={"X-CSRFToken": csrf})

    assert genuine.status_code == 200
    assert genuine.get_json()["ticket"]["status"] == "called"


def test_the_login_form_needs_its_csrf_token_and_the_right_password(app):
    browser = app.test_client()

    no_token = browser.post("/login", data={"username": "clerk1", "password": DEMO_PASSWORD})
    page = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    wrong = browser.post("/login", data={"username": "clerk1", "password": "nope", "csrf_token": csrf})
    unknown = browser.post("/login", data={"username": "ghost", "password": "nope", "csrf_token": csrf})

    assert no_token.status_code == 400
    assert wrong.status_code == 401
    assert unknown.status_code == 401
    assert browser.get("/api/v1/counters").status_code == 401


def test_logging_out_ends_the_cookie_session(app):
    browser = app.test_client()
    csrf = login(browser, "supervisor")
    assert browser.get("/api/v1/stats/daily").status_code == 200

    assert browser.post("/logout", data={"csrf_token": csrf}).status_code == 302

    assert browser.get("/api/v1/stats/daily").status_code == 401


def test_passwords_and_tokens_are_stored_hashed(app, runner):
    password = "Correct-Horse-42"
    created = runner.invoke(
        args=["create-user", "hashcheck", "--role", "supervisor"], env={"QMS_NEW_USER_PASSWORD": password}
    )
    assert created.exit_code == 0, created.output
    token = runner.invoke(args=["issue-token", "hashcheck"]).output.splitlines()[-1]

    stored = repr(all_rows(app))

    for secret in (password, DEMO_PASSWORD, token):
        assert secret not in stored
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == "hashcheck")).one()
        assert check_password_hash(user.password_hash, password)
        assert not check_password_hash(user.password_hash, password.lower())
    browser = app.test_client()
    login(browser, "hashcheck", password)
    assert browser.get("/api/v1/stats/daily").status_code == 200


def test_a_bearer_header_never_lends_the_cookie_session_its_rights(app, auth, take_ticket):
    # Bearer calls skip the CSRF check; a cookie riding along with a bad token must not count.
    browser = app.test_client()
    login(browser, "clerk1")
    take_ticket("A")
    before = all_rows(app)

    bogus = browser.post("/api/v1/counters/1/call-next", headers={"Authorization": "Bearer bogus"})

    assert bogus.status_code == 401
    assert all_rows(app) == before
    as_supervisor = browser.get("/api/v1/stats/daily", headers=auth("supervisor"))
    assert as_supervisor.status_code == 200, "the token names the caller, not the cookie"
    as_clerk = browser.get("/api/v1/stats/daily")
    assert as_clerk.status_code == 403, "the cookie session itself still works"


def test_a_bearer_call_works_whatever_anonymous_cookie_rides_along(app, auth):
    # An API client that fetched a page first holds a session (a CSRF token) but no log-in.
    client = app.test_client()
    assert client.get("/login").status_code == 200
    assert client.get_cookie("session") is not None

    answer = client.get("/api/v1/stats/daily", headers=auth("supervisor"))

    assert answer.status_code == 200, "the token alone names the caller"
    assert client.get("/api/v1/stats/daily").status_code == 401, "the cookie itself names nobody"
