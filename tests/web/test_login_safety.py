"""The staff log-in as an attacker tries it: where it sends you afterwards."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from kiosk.extensions import db
from queue_engine.core.models import AuditEntry, User
from tests.web.staff_login import log_in

from .conftest import DEMO_PASSWORD


def _form_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post_login(client, username: str, password: str = DEMO_PASSWORD, query: str = ""):
    """Submit the real login form (with its CSRF token); the raw answer, not followed."""
    token = _form_token(client)
    return client.post(
        "/login" + query, data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.mark.parametrize(
    "next_",
    [
        "/%09/evil.example/phish",
        "/%0A/evil.example/phish",
        "/%5Cevil.example/phish",
        "%5C%5Cevil.example",
        "//evil.example",
        "///evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "%20//evil.example",
    ],
)
def test_the_login_never_sends_staff_off_the_site(client, next_):
    answer = post_login(client, "supervisor", query=f"?next={next_}")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil.example" not in location and "javascript" not in location


def test_the_login_still_goes_on_to_the_page_asked_for(client):
    answer = post_login(client, "supervisor", query="?next=/supervisor/reports%3Ffrom%3D2026-01-01")
    assert answer.headers["Location"] == "/supervisor/reports?from=2026-01-01"


def _refusal(answer) -> str:
    return re.search(r'<p class="error" role="alert">([^<]*)</p>', answer.get_data(as_text=True)).group(1)


def _audited(app, action: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.target).where(AuditEntry.action == action)))


def test_ten_wrong_passwords_lock_the_account_for_fifteen_minutes(app_factory, database_url, clock):
    app = app_factory(database_url)  # the lock's time is stored and compared on both databases
    client = app.test_client()
    for _ in range(10):
        assert post_login(client, "clerk1", "not-the-password").status_code == 401
    locked = post_login(client, "clerk1")  # the right password, too late
    nobody = post_login(client, "no-such-user", "whatever-123")
    wrong = post_login(client, "clerk2", "not-the-password")
    # The same status and sentence: nobody learns that clerk1 exists or is locked.
    assert locked.status_code == nobody.status_code == wrong.status_code == 401
    assert _refusal(locked) == _refusal(nobody) == _refusal(wrong)
    assert "locked" in _refusal(locked) and "锁定" in _refusal(locked)
    assert _audited(app, "lock_account") == ["user:clerk1"]
    assert post_login(client, "clerk2").status_code == 302, "a lock is per account"

    clock.advance(minutes=14)
    assert post_login(client, "clerk1").status_code == 401
    clock.advance(minutes=2)
    assert post_login(client, "clerk1").status_code == 302


def test_the_lock_counts_wrong_passwords_in_a_row(client):
    for _ in range(9):
        post_login(client, "clerk1", "not-the-password")
    assert post_login(client, "clerk1").status_code == 302
    for _ in range(9):
        post_login(client, "clerk1", "not-the-password")
    assert post_login(client, "clerk1").status_code == 302


def test_an_admin_unlocks_a_locked_account_on_the_staff_page(app, client):
    for _ in range(10):
        post_login(client, "clerk3", "not-the-password")
    admin = app.test_client()
    csrf = log_in(admin, "admin")
    page = admin.get("/admin/staff").get_data(as_text=True)
    assert "Unlock · 解锁" in page
    with app.app_context():
        clerk = db.session.scalars(select(User).where(User.username == "clerk3")).one()
    unlocked = admin.post(f"/admin/staff/{clerk.id}/unlock", data={"csrf_token": csrf})
    assert unlocked.status_code in (200, 302)
    assert "Unlock · 解锁" not in admin.get("/admin/staff").get_data(as_text=True)
    assert _audited(app, "unlock_account") == ["user:clerk3"]
    assert post_login(app.test_client(), "clerk3").status_code == 302


def test_one_address_guessing_many_names_is_throttled(app_factory):
    app = app_factory(QMS_LOGIN_ADDRESS_LIMIT="5/minute")
    client = app.test_client()
    for n in range(5):
        assert post_login(client, f"guess{n}", "password1").status_code == 401
    assert post_login(client, "supervisor").status_code == 429


@pytest.mark.parametrize(
    "password",
    ["password", "12345678", "passwordpassword", "1234567890", "Clerk9-2026-x", "short-1"],
    ids=["password", "digits-8", "one-kind", "digits-10", "holds-username", "short"],
)
def test_weak_passwords_are_refused_by_the_cli_and_the_admin(app, runner, password):
    made = runner.invoke(
        args=["create-user", "clerk9", "--role", "clerk"], env={"QMS_NEW_USER_PASSWORD": password}
    )
    assert made.exit_code != 0
    admin = app.test_client()
    csrf = log_in(admin, "admin")
    with app.app_context():
        clerk = db.session.scalars(select(User).where(User.username == "clerk1")).one()
    if password == "Clerk9-2026-x":
        password = "Clerk1-2026-x"
    reset = admin.post(f"/admin/staff/{clerk.id}/password", data={"password": password, "csrf_token": csrf})
    assert reset.status_code == 422
    assert post_login(app.test_client(), "clerk1").status_code == 302, "the old password still works"


def test_a_good_password_is_taken(runner):
    made = runner.invoke(
        args=["create-user", "clerk9", "--role", "clerk"], env={"QMS_NEW_USER_PASSWORD": "窗口九号-2026年"}
    )
    assert made.exit_code == 0, made.output


def test_after_an_admin_reset_the_clerk_chooses_a_new_password_first(app):
    admin = app.test_client()
    csrf = log_in(admin, "admin")
    with app.app_context():
        clerk = db.session.scalars(select(User).where(User.username == "clerk2")).one()
    admin.post(f"/admin/staff/{clerk.id}/password", data={"password": "Temp-pass-2026", "csrf_token": csrf})

    browser = app.test_client()
    first = post_login(browser, "clerk2", "Temp-pass-2026")
    assert first.status_code == 302 and first.headers["Location"].startswith("/password")
    elsewhere = browser.get("/counter")
    assert elsewhere.status_code == 302 and elsewhere.headers["Location"].startswith("/password")
    page = browser.get("/password")
    assert "Choose your password · 修改密码" in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    weak = browser.post(
        "/password",
        data={
            "current": "Temp-pass-2026",
            "password": "clerk2clerk2",
            "confirm": "clerk2clerk2",
            "csrf_token": token,
        },
    )
    assert weak.status_code == 422 and "用户名" in weak.get_data(as_text=True)
    chosen = browser.post(
        "/password",
        data={
            "current": "Temp-pass-2026",
            "password": "Window-2-own",
            "confirm": "Window-2-own",
            "csrf_token": token,
        },
    )
    assert chosen.status_code == 302 and chosen.headers["Location"] == "/counter"
    assert browser.get("/counter").status_code == 200
    assert post_login(app.test_client(), "clerk2", "Window-2-own").headers["Location"] == "/counter"
    assert _audited(app, "change_password") == ["user:clerk2"]


def test_a_cookie_saved_before_logging_out_is_refused(app):
    browser = app.test_client()
    csrf = log_in(browser, "supervisor")
    saved = browser.get_cookie("session").value
    assert browser.get("/supervisor").status_code == 200
    browser.post("/logout", data={"csrf_token": csrf})

    replay = app.test_client()
    replay.set_cookie("session", saved)
    answer = replay.get("/supervisor")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_an_admins_password_reset_ends_the_old_session(app):
    clerk = app.test_client()
    log_in(clerk, "clerk4")
    assert clerk.get("/counter").status_code == 200
    admin = app.test_client()
    csrf = log_in(admin, "admin")
    with app.app_context():
        uid = db.session.scalars(select(User.id).where(User.username == "clerk4")).one()
    admin.post(f"/admin/staff/{uid}/password", data={"password": "", "csrf_token": csrf})
    answer = clerk.get("/counter")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("username", "screen"), [("clerk1", "/counter"), ("supervisor", "/supervisor"), ("admin", "/admin")]
)
def test_each_role_lands_on_its_own_screen(client, username, screen):
    assert post_login(client, username).headers["Location"] == screen


def test_an_admin_form_sent_after_the_session_lapsed_keeps_what_was_typed(app):
    lapsed = app.test_client()  # the session cookie expired: no login, no CSRF token any more
    typed = {
        "username": "wang",
        "display_name": "王小明 · 综合窗口",
        "role": "clerk",
        "password": "Typed-secret-1",
    }
    answer = lapsed.post(
        "/admin/staff",
        data={**typed, "csrf_token": "from-the-old-page"},
        headers={"Referer": "http://localhost/admin/staff"},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=/admin/staff")
    login_page = lapsed.get(answer.headers["Location"]).get_data(as_text=True)
    assert "会话已过期，请重新登录 · Session expired, please log in" in login_page

    again = post_login(lapsed, "admin", query="?next=/admin/staff")
    assert again.headers["Location"] == "/admin/staff"
    page = lapsed.get("/admin/staff").get_data(as_text=True)
    kept = json.loads(re.search(r'id="qms-restored-form">(.*?)</script>', page, re.S).group(1))
    assert kept["action"] == "/admin/staff"
    assert kept["fields"]["display_name"] == ["王小明 · 综合窗口"]
    assert kept["fields"]["username"] == ["wang"]
    assert "password" not in kept["fields"] and "Typed-secret-1" not in page
    assert "qms-restored-form" not in lapsed.get("/admin/staff").get_data(as_text=True), "put back once"
