"""Administration (/admin): only admins; every bad form refused with nothing changed; changes
audited and published live; the configuration file's round trip; the day closing by itself."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kiosk import create_app
from kiosk import runtime as hall_runtime
from kiosk.extensions import db, socketio
from queue_engine.core.kinds import CounterState
from queue_engine.core.models import AuditEntry, Counter, Hall, KioskDevice, Service, Ticket, User
from queue_engine.hall.calendar import is_working_day

from .conftest import DEMO_PASSWORD
from .helpers import all_rows, delivered
from .staff_login import log_in, page_csrf

# -- helpers --------------------------------------------------------------------------------


class Staff:
    """A logged-in browser: posts forms with the CSRF token, as HTMX does (or as a plain form)."""

    def __init__(self, client: FlaskClient, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = True, **kwargs: Any) -> Any:
        headers = {"X-CSRFToken": self.csrf, **({"HX-Request": "true"} if htmx else {})}
        return self.client.post(url, data=data or {}, headers=headers, **kwargs)


@pytest.fixture
def login(app: Flask):
    """Logs a demo user in with a fresh client."""

    def make(username: str) -> Staff:
        client = app.test_client()
        return Staff(client, log_in(client, username))

    return make


@pytest.fixture
def admin(login) -> Staff:
    """The demo admin, logged in."""
    return login("admin")


def html(response: Any) -> str:
    return response.get_data(as_text=True)


def in_db(app: Flask, query: Any) -> Any:
    with app.app_context():
        return db.session.execute(query).all()


def service_id(app: Flask, code: str) -> int:
    with app.app_context():
        return db.session.scalars(select(Service.id).where(Service.code == code)).one()


def user_id(app: Flask, username: str) -> int:
    with app.app_context():
        return db.session.scalars(select(User.id).where(User.username == username)).one()


def service_form(**changes: Any) -> dict[str, Any]:
    """Service A of the demo hall, as its admin form posts it, with some fields changed."""
    form = {
        "code": "A",
        "prefix": "A",
        "start_number": "1",
        "name_zh": "咨询",
        "name_en": "Inquiry",
        "category": "inquiry",
        "target_wait_min": "10",
        "active": "on",
        "sort_order": "0",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


HALL_FORM = {
    "name_zh": "政务服务大厅",
    "name_en": "Service Hall",
    "timezone": "",
    "languages": "",
    "always_open": "on",
    **{f"hours_{d}": "" for d in range(7)},
    "closed_dates": "",
    "priority_policy": "strict",
    "priority_every_n": "3",
    "kiosk_ticket_seconds": "8",
    "day_close_delay_min": "60",
}


def hall_form(**changes: Any) -> dict[str, Any]:
    form = {**HALL_FORM, **changes}
    return {k: v for k, v in form.items() if v is not None}


def admin_urls(app: Flask) -> list[tuple[str, str]]:
    """(method, url) of every /admin route, with 1 for every id."""
    urls = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            url = re.sub(r"<[^>]+>", "1", rule.rule)
            urls |= {(method, url) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return sorted(urls)


# -- who may enter --------------------------------------------------------------------------


def test_every_admin_route_is_guarded(app):
    """The matrix below covers every /admin route the app has (none forgotten)."""
    urls = admin_urls(app)
    assert len(urls) >= 20
    assert ("GET", "/admin") in urls and ("POST", "/admin/config") in urls


@pytest.mark.parametrize("who", ["clerk1", "supervisor"])
def test_clerks_and_supervisors_get_403_everywhere(app, login, who):
    staff = login(who)
    before = all_rows(app)
    for method, url in admin_urls(app):
        response = staff.get(url) if method == "GET" else staff.post(url, {"name": "x", "code": "Z"})
        assert response.status_code == 403, (who, method, url, response.status_code)
    assert all_rows(app) == before


def test_anonymous_visitors_are_sent_to_the_login_page(app, client):
    before = all_rows(app)
    csrf = page_csrf(client)  # an anonymous session's token: the refusal is about who, not the token
    for method, url in admin_urls(app):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"name": "x"}, headers={"X-CSRFToken": csrf})
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login?next=/admin")
        htmx = client.get(url, headers={"HX-Request": "true"}) if method == "GET" else None
        if htmx is not None:
            assert htmx.status_code == 401, url  # staff.js takes a 401 to the login page
    assert all_rows(app) == before


def test_an_api_token_does_not_open_the_admin_pages(app, token_for):
    headers = token_for("admin")
    for url in ("/admin/services", "/admin/config.json"):
        assert app.test_client().get(url, headers=headers).status_code == 401


def test_admins_see_every_page(admin, app):
    for method, url in admin_urls(app):
        if method == "GET" and "1" not in url:
            response = admin.get(url)
            assert response.status_code == 200, url
            assert "HX-Request" in response.headers.get("Vary", "")


def test_only_admins_see_the_admin_link(login):
    assert "/admin" in html(login("admin").get("/counter"))
    assert 'href="/admin"' not in html(login("supervisor").get("/counter"))


# -- bad input: refused, shown again as typed, nothing changed -------------------------------

BAD_FORMS = [
    # (id, url (A = service A, U = clerk1), form, field in error, a typed value shown again)
    ("service-code", "/admin/services/A", service_form(code="a b!"), "code", "a b!"),
    ("service-code-taken", "/admin/services/A", service_form(code="B"), "code", "B"),
    ("service-prefix", "/admin/services/A", service_form(prefix="A1"), "prefix", "A1"),
    (
        "service-prefix-taken",
        "/admin/services/A",
        service_form(prefix="B", name_zh="新名称"),
        "prefix",
        "新名称",
    ),
    (
        "service-start",
        "/admin/services/A",
        service_form(start_number="0", name_en="Kept"),
        "start_number",
        "Kept",
    ),
    (
        "service-start-text",
        "/admin/services/A",
        service_form(start_number="ten", name_zh="改名"),
        "start_number",
        "ten",
    ),
    (
        "service-name",
        "/admin/services/A",
        service_form(name_en="", name_zh="只改中文"),
        "names.en",
        "只改中文",
    ),
    ("service-long-name", "/admin/services/A", service_form(name_en="x" * 65), "names.en", "x" * 65),
    ("service-category", "/admin/services/A", service_form(category="vip"), "category", "咨询"),
    ("service-wait", "/admin/services/A", service_form(target_wait_min="-5"), "target_wait_min", "-5"),
    ("service-order", "/admin/services/A", service_form(sort_order="1000"), "sort_order", "1000"),
    ("new-service-code", "/admin/services", service_form(code="B", name_en="Brand new"), "code", "Brand new"),
    ("new-service-empty", "/admin/services", {}, "code", ""),
    ("counter-name", "/admin/counters/1", {"name": "", "services": ["A"], "active": "on"}, "name", ""),
    (
        "counter-name-taken",
        "/admin/counters/1",
        {"name": "2", "services": ["A"], "active": "on"},
        "name",
        "2",
    ),
    (
        "counter-service",
        "/admin/counters/1",
        {"name": "1", "services": ["A", "Q"], "active": "on"},
        "services",
        "Q",
    ),
    ("counter-no-service", "/admin/counters/1", {"name": "One", "active": "on"}, "services", "One"),
    (
        "new-counter-long",
        "/admin/counters",
        {"name": "x" * 33, "services": ["A"], "active": "on"},
        "name",
        "x" * 33,
    ),
    (
        "staff-role",
        "/admin/staff/U",
        {"display_name": "Clerk One", "role": "boss", "active": "on", "counters": ["1"]},
        "role",
        "Clerk One",
    ),
    (
        "staff-counter",
        "/admin/staff/U",
        {"display_name": "Clerk One", "role": "clerk", "active": "on", "counters": ["1", "99"]},
        "counters",
        "Clerk One",
    ),
    (
        "staff-counter-text",
        "/admin/staff/U",
        {"display_name": "Clerk One", "role": "clerk", "active": "on", "counters": ["x"]},
        "counters",
        "Clerk One",
    ),
    (
        "new-staff-username",
        "/admin/staff",
        {"username": "No Spaces!", "display_name": "Wang", "role": "clerk", "active": "on"},
        "username",
        "No Spaces!",
    ),
    (
        "new-staff-taken",
        "/admin/staff",
        {"username": "clerk2", "display_name": "Wang", "role": "clerk", "active": "on"},
        "username",
        "Wang",
    ),
    (
        "new-staff-password",
        "/admin/staff",
        {"username": "wang", "password": "short", "display_name": "Wang", "role": "clerk", "active": "on"},
        "password",
        "wang",
    ),
    ("password-short", "/admin/staff/U/password", {"password": "1234567"}, "password", None),
    ("kiosk-name", "/admin/kiosks", {"name": "   "}, "name", None),
    ("kiosk-long-name", "/admin/kiosks", {"name": "k" * 65}, "name", "k" * 65),
    ("hall-name", "/admin/hall", hall_form(name_zh="", name_en=""), "name", None),
    (
        "hall-timezone",
        "/admin/hall",
        hall_form(timezone="Mars/Olympus", name_en="Hall Two"),
        "timezone",
        "Mars/Olympus",
    ),
    ("hall-languages", "/admin/hall", hall_form(languages="zh,fr"), "languages", None),
    (
        "hall-hours",
        "/admin/hall",
        hall_form(always_open=None, hours_0="8:30-12"),
        "opening_hours.0",
        "8:30-12",
    ),
    (
        "hall-hours-backwards",
        "/admin/hall",
        hall_form(always_open=None, hours_0="08:30-12:00", hours_2="17:00-09:00"),
        "opening_hours.2",
        "17:00-09:00",
    ),
    (
        "hall-hours-overlap",
        "/admin/hall",
        hall_form(always_open=None, hours_1="08:00-12:00, 11:00-14:00"),
        "opening_hours.1",
        "11:00-14:00",
    ),
    ("hall-never-open", "/admin/hall", hall_form(always_open=None), "opening_hours", None),
    ("hall-closed-date", "/admin/hall", hall_form(closed_dates="2026-02-30"), "closed_dates", "2026-02-30"),
    ("hall-policy", "/admin/hall", hall_form(priority_policy="vip"), "priority_policy", None),
    (
        "hall-every-n",
        "/admin/hall",
        hall_form(priority_policy="every_n", priority_every_n="0"),
        "priority_every_n",
        None,
    ),
    (
        "hall-kiosk-seconds",
        "/admin/hall",
        hall_form(kiosk_ticket_seconds="600"),
        "kiosk_ticket_seconds",
        "600",
    ),
    ("hall-delay", "/admin/hall", hall_form(day_close_delay_min="soon"), "day_close_delay_min", "soon"),
    ("hall-notice", "/admin/hall", hall_form(notice_zh="请" * 201), "notice.zh", "请" * 201),
]


def _real_url(app: Flask, url: str) -> str:
    return url.replace("services/A", f"services/{service_id(app, 'A')}").replace(
        "staff/U", f"staff/{user_id(app, 'clerk1')}"
    )


@pytest.mark.parametrize(
    ("url", "form", "field", "typed"), [b[1:] for b in BAD_FORMS], ids=[b[0] for b in BAD_FORMS]
)
def test_bad_input_is_refused_and_changes_nothing(app, admin, url, form, field, typed):
    before = all_rows(app)
    response = admin.post(_real_url(app, url), form)
    page = html(response)
    assert response.status_code == 422, page[:500]
    assert "Not saved" in page or "field-error" in page
    assert 'aria-invalid="true"' in page or field in ("name", "opening_hours")
    if typed is not None:
        assert typed.replace("&", "&amp;") in page or json.dumps(typed)[1:-1] in page
    assert "admin-nav" not in page  # HTMX gets the form alone
    assert all_rows(app) == before


def test_without_javascript_a_refused_form_comes_back_in_its_page(app, admin):
    before = all_rows(app)
    response = admin.post(
        f"/admin/services/{service_id(app, 'A')}", service_form(prefix="A1", name_en="Kept"), htmx=False
    )
    page = html(response)
    assert response.status_code == 422
    assert "admin-nav" in page and 'value="A1"' in page and 'value="Kept"' in page
    assert all_rows(app) == before


def test_a_password_reset_that_is_refused_keeps_the_old_password(app, admin):
    response = admin.post(f"/admin/staff/{user_id(app, 'clerk1')}/password", {"password": "short"})
    assert response.status_code == 422
    log_in(app.test_client(), "clerk1")  # the demo password still works


# -- changes: saved, audited, live -----------------------------------------------------------


def audit_rows(app: Flask, action: str | None = None) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return list(rows)


def test_renaming_a_service_is_audited_and_reaches_kiosks_boards_and_counters(app, admin):
    kiosk = socketio.test_client(app)
    kiosk.emit("join", {"room": "kiosk"})
    board = socketio.test_client(app)
    board.emit("join", {"room": "display"})
    counter = socketio.test_client(app, flask_test_client=admin.client)
    counter.emit("join", {"room": "counter", "counter_id": 1})
    for sio in (kiosk, board, counter):
        delivered(sio)

    response = admin.post(f"/admin/services/{service_id(app, 'A')}", service_form(name_en="Questions"))

    assert response.status_code == 200
    assert "Saved" in html(response) and 'value="Questions"' in html(response)
    assert [e["name"] for e in delivered(kiosk)] == ["services:changed"]
    snapshots = [e["args"][0] for e in delivered(board) if e["name"] == "display:snapshot"]
    assert {"code": "A", "names": {"zh": "咨询", "en": "Questions"}} in snapshots[-1]["services"]
    assert "queue:changed" in [e["name"] for e in delivered(counter)]
    for sio in (kiosk, board, counter):
        sio.disconnect()

    (row,) = audit_rows(app, "update_service")
    assert row.user_id == user_id(app, "admin") and row.target == "service:A"
    assert row.before["names"]["en"] == "Inquiry" and row.after["names"]["en"] == "Questions"
    assert "Questions" in html(admin.client.get("/kiosk/services?lang=en"))


def test_saving_without_a_change_writes_no_audit_row(app, admin):
    assert admin.post(f"/admin/services/{service_id(app, 'A')}", service_form()).status_code == 200
    assert audit_rows(app) == []


def test_a_closed_service_takes_no_numbers(app, admin, client):
    admin.post(
        f"/admin/services/{service_id(app, 'B')}",
        service_form(
            code="B", prefix="B", name_zh="办理", name_en="Transactions", category="transaction", active=None
        ),
    )
    refused = client.post("/api/v1/tickets", json={"service": "B"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "service_closed"


def test_a_new_service_is_listed_and_numbered_with_its_prefix(app, admin, client):
    form = service_form(
        code="E",
        prefix="E",
        name_zh="社保",
        name_en="Social security",
        sort_order="9",
        start_number="101",
        category="transaction",
    )
    response = admin.post("/admin/services", form)
    page = html(response)
    assert response.status_code == 200
    assert 'hx-swap-oob="beforeend:#service-list"' in page and 'data-service="E"' in page
    refused = client.post("/api/v1/tickets", json={"service": "E"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "service_not_served"
    assert "No counter serves E" in html(admin.get("/admin/services"))  # until a counter serves it
    with app.app_context():
        new = db.session.scalars(select(Service).where(Service.code == "E")).one()
        counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
        counter.services.append(new)
        db.session.commit()
    ticket = client.post("/api/v1/tickets", json={"service": "E"}).get_json()
    assert ticket["number"] == "E101"
    assert [r.action for r in audit_rows(app)] == ["create_service"]


def test_a_service_with_tickets_is_deactivated_not_deleted(app, admin, take_ticket):
    take_ticket("C")
    response = admin.post(f"/admin/services/{service_id(app, 'C')}/remove")
    assert response.status_code == 200 and "deactivated" in html(response)
    rows = in_db(app, select(Service.code, Service.active).where(Service.code == "C"))
    assert rows == [("C", False)]
    assert [r.action for r in audit_rows(app)] == ["deactivate_service"]


def test_a_service_never_used_is_deleted(app, admin):
    admin.post("/admin/services", service_form(code="X", prefix="X", name_zh="临时", name_en="Temporary"))
    response = admin.post(f"/admin/services/{service_id(app, 'X')}/remove")
    assert response.status_code == 200 and 'id="admin-flash"' in html(response)
    assert in_db(app, select(Service.code).where(Service.code == "X")) == []
    assert [r.action for r in audit_rows(app)] == ["create_service", "delete_service"]


def test_counters_change_their_services_and_an_open_one_is_not_deactivated(
    app, admin, take_ticket, call_next
):
    response = admin.post("/admin/counters/3", {"name": "3", "services": ["A", "D"], "active": "on"})
    assert response.status_code == 200
    with app.app_context():
        assert sorted(s.code for s in db.session.get(Counter, 3).services) == ["A", "D"]
    take_ticket("A")
    assert call_next(1).status_code == 200  # counter 1 is open now
    before = all_rows(app)
    refused = admin.post("/admin/counters/1", {"name": "1", "services": ["A"]})  # active unticked
    assert refused.status_code == 422 and "close it before deactivating" in html(refused)
    assert admin.post("/admin/counters/1/remove").status_code == 422
    assert all_rows(app) == before


def test_a_new_counter_can_be_called_at(app, admin, take_ticket, token_for):
    assert admin.post("/admin/counters", {"name": "5", "services": ["D"], "active": "on"}).status_code == 200
    (new_id,) = in_db(app, select(Counter.id).where(Counter.name == "5"))[0]
    ticket = take_ticket("D")
    called = admin.client.post(f"/api/v1/counters/{new_id}/call-next", headers=token_for("supervisor"))
    assert called.get_json()["ticket"]["number"] == ticket["number"]


def test_staff_created_with_a_generated_password_shown_once(app, admin):
    form = {
        "username": "wang",
        "display_name": "王芳",
        "role": "clerk",
        "active": "on",
        "counters": ["2", "3"],
    }
    response = admin.post("/admin/staff", form)
    page = html(response)
    assert response.status_code == 200
    password = re.search(r'<code class="secret-value">([^<]+)</code>', page).group(1)
    log_in(app.test_client(), "wang", password)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == "wang")).one()
        assert sorted(c.id for c in user.counters) == [2, 3] and user.password_hash != password
    rows = audit_rows(app, "create_user")
    assert password not in json.dumps([r.after for r in rows])
    assert password not in html(admin.get("/admin/staff"))  # shown that once only


def test_reset_password_issue_and_revoke_a_token(app, admin, client):
    uid = user_id(app, "clerk2")
    reset = admin.post(f"/admin/staff/{uid}/password", {"password": "a-new-password"})
    assert reset.status_code == 200 and "secret-value" not in html(reset)  # typed: not shown back
    log_in(app.test_client(), "clerk2", "a-new-password")

    issued = admin.post(f"/admin/staff/{uid}/token")
    token = re.search(r'<code class="secret-value">([^<]+)</code>', html(issued)).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/counters", headers=headers).status_code == 200
    assert admin.post(f"/admin/staff/{uid}/token/revoke").status_code == 200
    assert client.get("/api/v1/counters", headers=headers).status_code == 401
    actions = [r.action for r in audit_rows(app)]
    assert actions == ["reset_password", "issue_token", "revoke_token"]
    assert token not in json.dumps([(r.before, r.after) for r in audit_rows(app)])


def test_a_deactivated_clerk_cannot_log_in(app, admin):
    clerk = app.test_client()
    log_in(clerk, "clerk4")
    form = {"display_name": "4号窗口 Clerk 4", "role": "clerk", "counters": ["4"]}  # active unticked
    assert admin.post(f"/admin/staff/{user_id(app, 'clerk4')}", form).status_code == 200
    assert clerk.get("/counter").status_code == 302  # the open session ends too
    browser = app.test_client()
    form = {"username": "clerk4", "password": DEMO_PASSWORD, "csrf_token": page_csrf(browser)}
    assert browser.post("/login", data=form).status_code == 401


def test_an_admin_cannot_lock_the_hall_out(app, admin):
    me = user_id(app, "admin")
    before = all_rows(app)
    demote = admin.post(f"/admin/staff/{me}", {"display_name": "Admin", "role": "clerk", "active": "on"})
    deactivate = admin.post(f"/admin/staff/{me}", {"display_name": "Admin", "role": "admin"})
    assert demote.status_code == deactivate.status_code == 422
    assert "your own admin access" in html(demote)
    assert all_rows(app) == before


def test_a_registered_kiosk_gets_a_one_time_link_and_can_be_revoked(app, admin):
    response = admin.post("/admin/kiosks", {"name": "Entrance · 入口"})
    link = re.search(r'<code class="secret-value">([^<]+)</code>', html(response)).group(1)
    assert "/kiosk/register/" in link
    kiosk = app.test_client()
    assert kiosk.get(link.split("localhost", 1)[-1]).status_code == 200
    (device,) = in_db(app, select(KioskDevice.id, KioskDevice.active))
    assert device.active
    assert admin.post(f"/admin/kiosks/{device.id}/revoke").status_code == 200
    assert in_db(app, select(KioskDevice.active)) == [(False,)]
    again = admin.post(f"/admin/kiosks/{device.id}/revoke")
    assert again.status_code == 200 and "revoked already" in html(again)
    assert [r.action for r in audit_rows(app)] == ["register_kiosk", "revoke_kiosk"]


# -- the hall: hours, timezone and languages -----------------------------------------------


def test_opening_hours_close_the_kiosk(app, admin, client, clock):
    # Monday 09:00 in Shanghai; the hall now opens at 10:00 on Mondays.
    form = hall_form(
        always_open=None,
        hours_0="10:00-12:00, 13:30-17:30",
        **{f"hours_{d}": "08:30-17:30" for d in range(1, 5)},
    )
    assert admin.post("/admin/hall", form).status_code == 200
    refused = client.post("/api/v1/tickets", json={"service": "A"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "hall_closed"
    clock.advance(hours=1)
    assert client.post("/api/v1/tickets", json={"service": "A"}).status_code == 201
    page = html(admin.get("/admin/hall"))
    assert 'value="10:00-12:00, 13:30-17:30"' in page and 'value="08:30-17:30"' in page


def test_a_closed_date_closes_the_hall(app, admin, client):
    assert admin.post("/admin/hall", hall_form(closed_dates="2026-01-05\n2026-10-01")).status_code == 200
    assert client.post("/api/v1/tickets", json={"service": "A"}).status_code == 409


def test_extra_working_dates_are_saved_and_shown_next_to_the_closed_dates(app, admin):
    """调休上班: a Sunday worked; the hall opens then with its weekday hours."""
    form = hall_form(
        always_open=None,
        **{f"hours_{d}": "08:30-17:30" for d in range(5)},
        closed_dates="2026-10-01",
        extra_working_dates="2026-10-11，2026-09-27",
    )
    assert admin.post("/admin/hall", form).status_code == 200
    with app.app_context():
        hall = db.session.scalars(select(Hall)).one()
        assert hall.extra_working_dates == ["2026-09-27", "2026-10-11"]
        assert is_working_day(hall, date(2026, 10, 11)) and not is_working_day(hall, date(2026, 10, 1))
    page = html(admin.get("/admin/hall"))
    assert '<textarea name="extra_working_dates"' in page
    assert "2026-09-27\n2026-10-11</textarea>" in page and "调休上班" in page


@pytest.mark.parametrize(
    ("extra", "message"),
    [("2026-10-32", "is not a date"), ("2026-10-01", "either closed or worked")],
)
def test_a_wrong_extra_working_date_is_refused_with_what_was_typed(app, admin, extra, message):
    before = all_rows(app)
    refused = admin.post("/admin/hall", hall_form(closed_dates="2026-10-01", extra_working_dates=extra))
    assert refused.status_code == 422
    page = html(refused)
    assert message in page and "Extra working days · 调休上班日期" in page and f">{extra}</textarea>" in page
    assert all_rows(app) == before


def test_a_configuration_file_without_extra_working_dates_still_imports(app, admin):
    """A file exported before 调休 existed: it imports, and the hall keeps no extra working dates."""
    admin.post("/admin/hall", hall_form(extra_working_dates="2026-10-11"))
    config = json.loads(html(admin.get("/admin/config.json")))
    assert config["hall"]["extra_working_dates"] == ["2026-10-11"]
    del config["hall"]["extra_working_dates"]
    upload = json.dumps(config, ensure_ascii=False).encode()
    done = admin.post("/admin/config", {"mode": "import", "file": (_file(upload), "hall.json")})
    assert done.status_code == 200 and "Imported" in html(done)
    assert in_db(app, select(Hall.extra_working_dates)) == [([],)]


def test_the_hall_timezone_overrides_the_environment_and_the_clock_follows(app, admin, clock):
    assert app.config["QMS_TIMEZONE"] == "Asia/Shanghai"
    assert (
        admin.post("/admin/hall", hall_form(timezone="Europe/London", languages="en,zh")).status_code == 200
    )
    assert app.config["QMS_TIMEZONE"] == "Europe/London"
    assert app.config["QMS_CLOCK"] is clock and clock.tz == ZoneInfo("Europe/London")
    assert app.config["QMS_LANGUAGES"] == ["en", "zh"]
    assert clock.today().isoformat() == "2026-01-05"  # 01:00 UTC is still Monday in London
    assert 'lang="en"' in html(admin.client.get("/kiosk"))  # the first language is the kiosk's default
    assert admin.post("/admin/hall", hall_form()).status_code == 200  # back to the environment's
    assert app.config["QMS_TIMEZONE"] == "Asia/Shanghai" and clock.tz == ZoneInfo("Asia/Shanghai")
    assert app.config["QMS_LANGUAGES"] == ["zh", "en"]


def test_another_process_picks_up_the_hall_timezone(app, admin, clock):
    """A second app on the same database (another server process) follows within SYNC_SECONDS."""
    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    try:
        with other.app_context():
            assert other.config["QMS_TIMEZONE"] == "Asia/Shanghai"
        admin.post("/admin/hall", hall_form(timezone="America/New_York"))
        hall_runtime.runtime(other).synced_at -= hall_runtime.SYNC_SECONDS  # as if the time had passed
        with other.app_context():
            assert other.config["QMS_TIMEZONE"] == "America/New_York"
            assert other.config["QMS_CLOCK"].tz == ZoneInfo("America/New_York")
    finally:
        with other.app_context():
            db.engine.dispose()


def test_hall_settings_are_audited_with_before_and_after(app, admin):
    admin.post(
        "/admin/hall", hall_form(priority_policy="every_n", priority_every_n="4", name_en="North Hall")
    )
    (row,) = audit_rows(app, "update_hall")
    assert row.before["priority_policy"] == "strict" and row.after["priority_policy"] == "every_n"
    assert row.after["priority_every_n"] == 4 and row.after["name"]["en"] == "North Hall"


# -- the audit log --------------------------------------------------------------------------


def test_the_audit_log_filters_by_user_action_and_date(app, admin, clock):
    admin.post(f"/admin/services/{service_id(app, 'A')}", service_form(name_en="Questions"))
    clock.advance(days=1)
    admin.post("/admin/counters/2", {"name": "Two", "services": ["A"], "active": "on"})

    everything = html(admin.get("/admin/audit"))
    assert "update_service" in everything and "update_counter" in everything
    assert "Questions" in everything and "Inquiry" in everything  # before -> after
    only_counters = html(admin.get("/admin/audit?action=update_counter"))
    assert "update_counter" in only_counters and "service:A" not in only_counters
    monday = html(admin.get("/admin/audit?from=2026-01-05&to=2026-01-05"))
    assert "service:A" in monday and "counter:2" not in monday
    by_supervisor = html(admin.get(f"/admin/audit?user={user_id(app, 'supervisor')}"))
    assert "Nothing recorded" in by_supervisor
    bad = admin.get("/admin/audit?from=yesterday")
    assert bad.status_code == 200 and "not understood" in html(bad)


# -- the configuration file -----------------------------------------------------------------


def configure_a_hall(admin: Staff, app: Flask) -> None:
    """Change the demo hall in every part the configuration file holds."""
    admin.post(
        "/admin/hall",
        hall_form(
            name_en="North Hall",
            timezone="Asia/Urumqi",
            languages="zh",
            always_open=None,
            hours_0="08:30-12:00, 13:30-17:30",
            hours_5="09:00-12:00",
            closed_dates="2026-10-01 2026-10-02",
            extra_working_dates="2026-10-11",
            priority_policy="every_n",
            priority_every_n="2",
            kiosk_ticket_seconds="12",
            day_close_delay_min="30",
        ),
    )
    pensions = service_form(code="E", prefix="E", name_zh="社保", name_en="Pensions", sort_order="4")
    admin.post(
        "/admin/services", {**pensions, "start_number": "101", "category": "transaction", "active": ""}
    )
    admin.post("/admin/counters", {"name": "VIP", "services": ["A", "E"], "active": "on"})
    admin.post("/admin/counters/4", {"name": "4", "services": ["C", "D"]})  # deactivated


def test_export_then_import_into_an_empty_database_gives_the_same_configuration(app, admin, tmp_path, clock):
    configure_a_hall(admin, app)
    exported = admin.get("/admin/config.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    text = html(exported)
    assert "password" not in text and "token" not in text and "clerk1" not in text
    path = tmp_path / "hall.json"
    path.write_text(text, encoding="utf-8")

    empty = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "QMS_CLOCK": clock,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'second-hall.sqlite3'}",
        }
    )
    try:
        with empty.app_context():
            db.create_all()
        runner = empty.test_cli_runner()
        imported = runner.invoke(args=["import-config", str(path)])
        assert imported.exit_code == 0, imported.output
        again = runner.invoke(args=["export-config"])
        assert again.exit_code == 0
        first, second = json.loads(text), json.loads(again.output)
        first.pop("exported_at"), second.pop("exported_at")
        assert second == first
        with empty.app_context():
            assert empty.config["QMS_TIMEZONE"] == "Asia/Urumqi" and empty.config["QMS_LANGUAGES"] == ["zh"]
            assert db.session.scalar(select(func.count()).select_from(User)) == 0  # no staff in the file
    finally:
        with empty.app_context():
            db.engine.dispose()


def test_importing_through_the_page_applies_the_file_or_only_checks_it(app, admin):
    config = json.loads(html(admin.get("/admin/config.json")))
    config["services"][0]["names"]["en"] = "Questions"
    config["counters"] = [c for c in config["counters"] if c["name"] != "4"]
    upload = json.dumps(config, ensure_ascii=False).encode()
    before = all_rows(app)

    checked = admin.post("/admin/config", {"mode": "check", "file": (_file(upload), "hall.json")})
    assert checked.status_code == 200 and "nothing was changed" in html(checked)
    assert "Updated" in html(checked) and "Deactivated" in html(checked)
    rows = all_rows(app)
    rows.pop("audit_log"), before.pop("audit_log")  # the download above was audited
    assert rows == before

    done = admin.post("/admin/config", {"mode": "import", "file": (_file(upload), "hall.json")})
    assert done.status_code == 200 and "Imported" in html(done)
    assert in_db(app, select(Counter.active).where(Counter.name == "4")) == [(False,)]
    assert "Questions" in html(admin.client.get("/kiosk/services?lang=en"))
    assert [r.action for r in audit_rows(app)][-1] == "import_config"
    log = html(admin.get("/admin/audit?action=import_config"))
    assert "services.A.names.en" in log and "Questions" in log and "counters.4.active" in log


def _file(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def _set(path: str, value: Any):
    """A change to the exported demo configuration: set (or with KeyError, delete) one value."""

    def change(config: dict[str, Any]) -> None:
        target: Any = config
        *parents, last = (int(k) if k.isdigit() else k for k in path.split("."))
        for key in parents:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return change


BROKEN = [
    # (id, raw file or a change to the demo hall's exported file, the problem reported)
    ("not-json", b"{not json", "Not a JSON file"),
    ("not-an-object", b"[1, 2]", "no configuration object"),
    ("wrong-format", _set("format", "something-else"), "Not a hall-queue-config file"),
    ("missing-hall-key", _set("hall.timezone", KeyError), "hall: missing timezone"),
    ("unknown-service-key", _set("services.0.colour", "red"), "services[0]: unknown colour"),
    ("bad-prefix", _set("services.1.prefix", "b2"), "services[1].prefix"),
    ("duplicate-code", _set("services.1.code", "A"), "services[1].code"),
    ("unknown-service-at-a-counter", _set("counters.3.services", ["C", "Q"]), "counters[3].services"),
    ("duplicate-counter", _set("counters.3.name", "2"), "counters[3].name"),
    ("bad-hours", _set("hall.opening_hours", {"0": [["17:00", "08:00"]]}), "hall.opening_hours.0"),
    ("bad-timezone", _set("hall.timezone", "Nowhere/Land"), "hall.timezone"),
    ("text-for-a-number", _set("services.0.target_wait_min", "lots"), "services[0].target_wait_min"),
    ("services-not-a-list", _set("services", {"A": {}}), "services: a list is expected"),
]


@pytest.mark.parametrize(("broken", "problem"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_file_changes_nothing(app, admin, runner, tmp_path, broken, problem):
    if isinstance(broken, bytes):
        data = broken
    else:
        config = json.loads(runner.invoke(args=["export-config"]).output)
        # The rest of the file would change the hall: none of it may be applied.
        config["hall"]["name"] = {"zh": "新大厅", "en": "New hall"}
        config["counters"][0]["name"] = "Renamed"
        broken(config)
        data = json.dumps(config).encode()
    before = all_rows(app)

    response = admin.post("/admin/config", {"mode": "import", "file": (_file(data), "broken.json")})
    assert response.status_code == 422
    assert problem in html(response) and "nothing was changed" in html(response)
    path = tmp_path / "broken.json"
    path.write_bytes(data)
    result = runner.invoke(args=["import-config", str(path)])
    assert result.exit_code != 0 and problem in result.output

    assert all_rows(app) == before


def test_an_import_that_would_deactivate_an_open_counter_changes_nothing(
    app, admin, runner, tmp_path, take_ticket, call_next
):
    take_ticket("A")
    call_next(2)
    config = json.loads(runner.invoke(args=["export-config"]).output)
    config["counters"] = [c for c in config["counters"] if c["name"] != "2"]
    config["hall"]["kiosk_ticket_seconds"] = 20
    path = tmp_path / "hall.json"
    path.write_text(json.dumps(config))
    before = all_rows(app)
    result = runner.invoke(args=["import-config", str(path)])
    assert result.exit_code != 0 and "counter 2 is open" in result.output
    assert all_rows(app) == before


# -- the business day closes by itself ------------------------------------------------------


def test_the_day_closer_expires_yesterdays_tickets_and_closes_counters(app, take_ticket, call_next, clock):
    waiting = take_ticket("A")
    take_ticket("A")
    call_next(1)
    clock.advance(days=1)
    day, expired = hall_runtime.close_days_now(app)
    assert (day.isoformat(), expired) == ("2026-01-05", 2)
    with app.app_context():
        assert db.session.get(Counter, 1).state == CounterState.CLOSED
        statuses = db.session.scalars(select(Ticket.status).order_by(Ticket.id)).all()
    assert statuses == ["expired", "expired"]
    assert hall_runtime.close_days_now(app)[1] == 0  # idempotent
    assert waiting["token"]


def test_the_day_closer_runs_in_the_background(app_factory, clock):
    app = app_factory(QMS_AUTO_CLOSE_DAY=True, QMS_DAY_CLOSE_SECONDS=0.05)
    client = app.test_client()
    ticket = client.post("/api/v1/tickets", json={"service": "A"}).get_json()
    # 17:30 is closing time, plus a 60-minute delay: at 18:31 the day is over.
    admin_form = {"opening_hours": {str(d): [["08:30", "17:30"]] for d in range(5)}}
    with app.app_context():
        from queue_engine.hall.calendar import hall_settings

        hall_settings(db.session).opening_hours = admin_form["opening_hours"]
        db.session.commit()
    clock.set(datetime(2026, 1, 5, 10, 31, tzinfo=UTC))  # 18:31 in Shanghai
    try:
        client.get("/api/v1/services")  # the first request starts the closer
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = client.get(f"/api/v1/tickets/{ticket['token']}").get_json()["status"]
            if status == "expired":
                break
            time.sleep(0.05)
        assert status == "expired"
    finally:
        hall_runtime.stop_day_closer(app)
    assert hall_runtime.runtime(app).closer is not None
    assert not hall_runtime.runtime(app).closer.is_alive()


def test_no_day_closer_under_testing_unless_asked(app, client):
    client.get("/api/v1/services")
    assert hall_runtime.runtime(app).closer is None


# -- the board's notice line ----------------------------------------------------------------

NOTICE = {"zh": "今日下午 16:00 起暂停办理出入境业务", "en": "Exit-entry services pause from 16:00 today"}


def test_the_board_notice_is_written_on_the_hall_page_audited_and_reaches_the_boards(app, admin, client):
    board = socketio.test_client(app)
    board.emit("join", {"room": "display"})
    delivered(board)

    saved = admin.post("/admin/hall", hall_form(notice_zh=NOTICE["zh"], notice_en=f"  {NOTICE['en']}\n"))

    assert saved.status_code == 200 and "Saved" in html(saved)
    assert f">{NOTICE['zh']}</textarea>" in html(admin.get("/admin/hall"))
    snapshots = [e["args"][0] for e in delivered(board) if e["name"] == "display:snapshot"]
    board.disconnect()
    assert snapshots and snapshots[-1]["notice"] == NOTICE  # the open boards redraw at once
    assert client.get("/api/v1/display").get_json()["notice"] == NOTICE
    page = html(client.get("/display"))
    config = json.loads(page.split('id="board-config">', 1)[1].split("</script>", 1)[0])
    assert config["snapshot"]["notice"] == NOTICE  # the board draws it before its live link is up
    (row,) = audit_rows(app, "update_hall")
    assert row.user_id == user_id(app, "admin")
    assert row.before["notice"] == {} and row.after["notice"] == NOTICE

    # Emptied, the notice is gone from the board.
    assert admin.post("/admin/hall", hall_form()).status_code == 200
    assert client.get("/api/v1/display").get_json()["notice"] == {}


def test_a_notice_of_200_characters_is_kept_and_one_longer_is_refused(app, admin, client):
    assert admin.post("/admin/hall", hall_form(notice_zh="请" * 200)).status_code == 200
    assert client.get("/api/v1/display").get_json()["notice"] == {"zh": "请" * 200}
    refused = admin.post("/admin/hall", hall_form(notice_en="x" * 201))
    assert refused.status_code == 422
    assert "最多 200 个字符" in html(refused) and "At most 200 characters" in html(refused)
    assert client.get("/api/v1/display").get_json()["notice"] == {"zh": "请" * 200}


def test_the_notice_travels_in_the_configuration_file_and_older_files_still_import(app, admin, client):
    admin.post("/admin/hall", hall_form(notice_zh=NOTICE["zh"], notice_en=NOTICE["en"]))
    config = json.loads(html(admin.get("/admin/config.json")))
    assert config["hall"]["notice"] == NOTICE
    admin.post("/admin/hall", hall_form())
    upload = json.dumps(config, ensure_ascii=False).encode()
    done = admin.post("/admin/config", {"mode": "import", "file": (_file(upload), "hall.json")})
    assert done.status_code == 200 and "Imported" in html(done)
    assert client.get("/api/v1/display").get_json()["notice"] == NOTICE
    # A file exported before the notice existed: it imports, and the board then has none.
    del config["hall"]["notice"]
    upload = json.dumps(config, ensure_ascii=False).encode()
    done = admin.post("/admin/config", {"mode": "import", "file": (_file(upload), "hall.json")})
    assert done.status_code == 200 and "Imported" in html(done)
    assert client.get("/api/v1/display").get_json()["notice"] == {}
    # A notice too long in a file is refused like one typed on the page.
    config["hall"]["notice"] = {"zh": "请" * 201}
    upload = json.dumps(config, ensure_ascii=False).encode()
    refused = admin.post("/admin/config", {"mode": "import", "file": (_file(upload), "hall.json")})
    assert "notice.zh" in html(refused) and client.get("/api/v1/display").get_json()["notice"] == {}
