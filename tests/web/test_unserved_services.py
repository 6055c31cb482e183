"""A service that no counter serves is never offered as if it would be served (issue 13 item 5)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kiosk.extensions import db
from queue_engine.core.models import Service, Ticket
from tests.web.staff_login import log_in

from .test_kiosk_pages import touch


@pytest.fixture
def unserved(app):
    """Service D of the demo hall, taken off every counter."""
    with app.app_context():
        db.session.scalars(select(Service).where(Service.code == "D")).one().counters = []
        db.session.commit()
    return "D"


def tickets(app) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Ticket)))


def service_button(page: str, code: str) -> str:
    found = re.search(rf'<button[^>]*data-service="{code}".*?</button>', page, re.S)
    assert found, f"no button for {code}"
    return found.group(0)


def test_the_kiosk_shows_it_greyed_without_an_estimate_in_both_languages(client, unserved):
    zh = service_button(client.get("/kiosk?lang=zh").get_data(as_text=True), unserved)
    en = service_button(client.get("/kiosk?lang=en").get_data(as_text=True), unserved)

    assert "disabled aria-disabled" in zh and "暂无窗口办理" in zh and "分钟" not in zh
    assert "disabled aria-disabled" in en and "Not served now" in en
    assert "min" not in en and "waiting" not in en
    served = service_button(client.get("/kiosk?lang=en").get_data(as_text=True), "A")
    assert "aria-disabled" not in served and "about" in served


def test_the_kiosk_refuses_a_touch_for_it_and_issues_nothing(app, client, unserved):
    answer = touch(client, unserved, key="a-stale-screen", lang="zh")

    assert answer.status_code == 409
    assert "暂无窗口办理此业务" in answer.get_data(as_text=True)
    assert tickets(app) == 0


def test_the_api_refuses_it_with_service_not_served(app, client, unserved):
    answer = client.post("/api/v1/tickets", json={"service": unserved})

    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert error["code"] == "service_not_served"
    assert "暂无窗口办理" in error["message"] and "No counter serves service D" in error["message"]
    assert tickets(app) == 0
    listed = {s["code"]: s["served"] for s in client.get("/api/v1/services").get_json()}
    assert listed["D"] is False and listed["A"] is True
    assert "service_not_served" in str(client.get("/api/v1/openapi.json").get_json()["paths"]["/tickets"])


def test_a_transfer_to_it_is_refused(app, client, take_ticket, call_next, auth, unserved):
    ticket = take_ticket("A")
    call_next(1, "clerk1")

    answer = client.post(
        f"/api/v1/tickets/{ticket['token']}/transfer", json={"service": unserved}, headers=auth("clerk1")
    )

    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "service_not_served"


def test_the_admin_services_page_warns(app, unserved):
    admin = app.test_client()
    log_in(admin, "admin")

    page = admin.get("/admin/services").get_data(as_text=True)

    warning = re.search(r'id="unserved-services".*?</div>', page, re.S)
    assert warning and "No counter serves D" in warning.group(0) and "暂无窗口办理：D" in warning.group(0)


def test_the_supervisor_sees_an_alert(app, unserved):
    supervisor = app.test_client()
    log_in(supervisor, "supervisor")

    page = supervisor.get("/supervisor").get_data(as_text=True)

    alert = re.search(r'id="unserved-alerts".*?</div>', page, re.S)
    assert alert and "D " in alert.group(0) and "暂无窗口办理" in alert.group(0)


def test_no_warning_while_every_service_is_served(app):
    admin = app.test_client()
    log_in(admin, "admin")

    assert 'id="unserved-services"' not in admin.get("/admin/services").get_data(as_text=True)
