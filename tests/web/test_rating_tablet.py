"""The counter's rating tablet is a device of its own: registered like a kiosk, reached with its
own token, never a clerk's login; a clerk cannot rate from the workspace."""

from __future__ import annotations

import re

from sqlalchemy import select

from kiosk.extensions import db, socketio
from queue_engine.core.models import AuditEntry, RatingTablet, Visit
from tests.web.helpers import delivered

from .staff_login import log_in, page_csrf


def _rows(app, query):
    with app.app_context():
        return db.session.execute(query).all()


def _register(app, counter: int = 1, name: str = "Window 1 tablet") -> str:
    result = app.test_cli_runner().invoke(args=["register-tablet", name, "--counter", str(counter)])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def _finish_one(client, auth, call_next, take_ticket) -> dict:
    ticket = take_ticket("A")
    assert call_next(1).status_code == 200
    done = client.post(
        f"/api/v1/tickets/{ticket['token']}/finish", json={"outcome": "resolved"}, headers=auth("clerk1")
    )
    assert done.status_code == 200
    return ticket


def test_a_tablet_registered_on_the_command_line_rates_without_any_login(
    app, client, auth, call_next, take_ticket
):
    address = _register(app)
    (tablet_row,) = _rows(app, select(RatingTablet.id, RatingTablet.counter_id, RatingTablet.active))
    assert (tablet_row.counter_id, tablet_row.active) == (1, True)
    audit = _rows(app, select(AuditEntry.action, AuditEntry.target, AuditEntry.user_id))
    assert audit == [("register_tablet", f"tablet:{tablet_row.id}", None)]

    ticket = _finish_one(client, auth, call_next, take_ticket)
    tablet = app.test_client()
    page = tablet.get(address).get_data(as_text=True)
    assert f'data-token="{ticket["token"]}"' in page  # it asks about the visit just finished
    sio = socketio.test_client(app, flask_test_client=tablet)
    sio.emit("join", {"room": "tablet", "device": address.rsplit("/", 1)[-1]})
    (prompt,) = [m for m in delivered(sio) if m["name"] == "rate:request"]
    assert prompt["args"][0]["number"] == ticket["number"]
    sio.disconnect()

    stored = tablet.post(
        f"/api/v1/tablets/{address.rsplit('/', 1)[-1]}/rating", json={"ticket": ticket["token"], "score": 4}
    )
    assert stored.status_code == 201
    assert _rows(app, select(Visit.rating, Visit.rating_source)) == [(4, "tablet")]


def test_a_revoked_tablet_stops_working_and_says_so(app, client, auth, call_next, take_ticket):
    address = _register(app)
    (tablet_id,) = _rows(app, select(RatingTablet.id))[0]
    result = app.test_cli_runner().invoke(args=["revoke-tablet", str(tablet_id)])
    assert result.exit_code == 0, result.output
    ticket = _finish_one(client, auth, call_next, take_ticket)
    tablet = app.test_client()
    page = tablet.get(address)
    assert page.status_code == 404 and "评价器未登记或已被撤销" in page.get_data(as_text=True)
    refused = tablet.post(
        f"/api/v1/tablets/{address.rsplit('/', 1)[-1]}/rating", json={"ticket": ticket["token"], "score": 5}
    )
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "unknown_tablet"
    assert _rows(app, select(Visit.rating)) == [(None,)]
    assert [a for (a,) in _rows(app, select(AuditEntry.action).order_by(AuditEntry.id))] == [
        "register_tablet",
        "revoke_tablet",
    ]


def test_the_admin_registers_and_revokes_a_tablet_on_the_kiosks_page(app):
    admin = app.test_client()
    csrf = log_in(admin, "admin")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    page = admin.get("/admin/kiosks").get_data(as_text=True)
    assert "Rating tablets · 评价器" in page
    missing = admin.post("/admin/tablets", data={"name": "T1", "counter_id": ""}, headers=headers)
    assert missing.status_code == 422 and "请选择窗口" in missing.get_data(as_text=True)
    made = admin.post("/admin/tablets", data={"name": "T1", "counter_id": "2"}, headers=headers)
    assert made.status_code == 200
    address = re.search(r'<code class="secret-value">([^<]+)</code>', made.get_data(as_text=True)).group(1)
    assert "/rate/" in address
    assert app.test_client().get(address.split("localhost", 1)[-1]).status_code == 200
    (tablet,) = _rows(app, select(RatingTablet.id, RatingTablet.counter_id))
    assert tablet.counter_id == 2
    revoked = admin.post(f"/admin/tablets/{tablet.id}/revoke", headers=headers)
    assert revoked.status_code == 200 and "已撤销评价器 T1" in revoked.get_data(as_text=True)
    assert app.test_client().get(address.split("localhost", 1)[-1]).status_code == 404
    actions = [a for (a,) in _rows(app, select(AuditEntry.action).order_by(AuditEntry.id))]
    assert actions[-2:] == ["register_tablet", "revoke_tablet"]


def test_a_clerk_cannot_rate_their_own_visit_from_the_workspace(app, client, auth, call_next, take_ticket):
    ticket = _finish_one(client, auth, call_next, take_ticket)
    clerk = app.test_client()
    csrf = log_in(clerk, "clerk1")
    moved = clerk.get("/counter/1/rate")
    assert moved.status_code == 200
    text = moved.get_data(as_text=True)
    assert "评价器现为单独登记的设备" in text and "a device of its own" in text
    assert ticket["token"] not in text
    tried = clerk.post(
        "/counter/1/rate", data={"token": ticket["token"], "score": "5"}, headers={"X-CSRFToken": csrf}
    )
    assert tried.status_code == 405
    assert _rows(app, select(Visit.rating)) == [(None,)]
    assert page_csrf(clerk, "/counter/1")  # the workspace itself still works


def test_the_tablet_stops_asking_when_the_counter_closes(app, client, clock, auth, call_next, take_ticket):
    address = _register(app)
    clerk = auth("clerk1")
    _finish_one(client, auth, call_next, take_ticket)
    sio = socketio.test_client(app)
    delivered(sio)  # the finish is published before the tablet joins
    sio.emit("join", {"room": "tablet", "device": address.rsplit("/", 1)[-1]})
    assert [m["name"] for m in delivered(sio) if m["name"].startswith("rate:")] == ["rate:request"]
    closed = client.post("/api/v1/counters/1/close", json={}, headers=clerk)
    assert closed.status_code == 200, closed.get_json()
    assert "rate:idle" in [m["name"] for m in delivered(sio)]
    clock.advance(minutes=2)
    reopened = client.post("/api/v1/counters/1/open", json={}, headers=clerk)
    assert reopened.status_code == 200
    assert [m["name"] for m in delivered(sio) if m["name"].startswith("rate:")] == ["rate:idle"]
    sio.disconnect()
