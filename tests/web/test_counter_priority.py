"""A clerk marks a visitor as priority (老年人 / 残疾人 / 孕妇) from the counter page or the API;
the Next list and the visitor's position follow the hall's policy."""

from __future__ import annotations

import re

import pytest

from kiosk.extensions import db
from queue_engine.hall.calendar import hall_settings

from .staff_login import log_in


@pytest.fixture
def priority_hall(app):
    with app.app_context():
        hall_settings(db.session).priority_policy = "priority_first"
        db.session.commit()


def _next_numbers(html: str) -> list[str]:
    block = html.split('<ol class="next">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<span class="num">([^<]+)</span>', block)


def test_the_api_marks_a_waiting_ticket_and_its_position_follows(client, auth, take_ticket, priority_hall):
    tickets = [take_ticket("A") for _ in range(3)]
    last = tickets[-1]
    assert client.get(f"/api/v1/tickets/{last['token']}").get_json()["position"] == 3
    marked = client.post(f"/api/v1/tickets/{last['token']}/priority", headers=auth("clerk1"))
    assert marked.status_code == 200, marked.get_json()
    assert marked.get_json()["position"] == 1
    assert client.get(f"/api/v1/tickets/{tickets[0]['token']}").get_json()["position"] == 2
    called = client.post("/api/v1/counters/1/call-next", headers=auth("clerk1")).get_json()["ticket"]
    assert called["number"] == last["number"]


def test_the_api_refuses_a_ticket_no_longer_waiting_or_called(client, auth, take_ticket, priority_hall):
    ticket = take_ticket("A")
    assert client.post(f"/api/v1/tickets/{ticket['token']}/cancel").status_code == 200
    refused = client.post(f"/api/v1/tickets/{ticket['token']}/priority", headers=auth("clerk1"))
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "invalid_transition"
    assert client.post(f"/api/v1/tickets/{ticket['token']}/priority").status_code == 401


def test_the_counter_page_button_moves_the_visitor_up_the_next_list(app, take_ticket, priority_hall):
    tickets = [take_ticket("A") for _ in range(3)]
    clerk = app.test_client()
    csrf = log_in(clerk, "clerk1")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    assert clerk.post("/counter/1/open", data={"csrf_token": csrf}).status_code == 302
    page = clerk.get("/counter/1").get_data(as_text=True)
    assert _next_numbers(page)[:3] == [t["number"] for t in tickets]
    assert "优先 · Priority" in page
    answer = clerk.post("/counter/1/act/priority", data={"token": tickets[2]["token"]}, headers=headers)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "已设为优先" in html
    assert _next_numbers(html)[:3] == [tickets[2]["number"], tickets[0]["number"], tickets[1]["number"]]
    # The visitor being served is marked the same way.
    assert clerk.post("/counter/1/act/call-next", headers=headers).status_code == 200
    held = clerk.post("/counter/1/act/priority", data={"token": tickets[2]["token"]}, headers=headers)
    assert held.status_code == 200 and "Priority · 优先</dt>" in held.get_data(as_text=True)


def test_a_workspace_closed_elsewhere_is_told_to_reload(app, client, auth):
    clerk = app.test_client()
    csrf = log_in(clerk, "clerk1")
    assert clerk.post("/counter/1/open", data={"csrf_token": csrf}).status_code == 302
    assert clerk.get("/counter/1/live?layout=workspace").status_code == 200
    assert client.post("/api/v1/counters/1/close", json={}, headers=auth("supervisor")).status_code == 200
    assert clerk.get("/counter/1/live?layout=workspace").status_code == 205
    assert clerk.get("/counter/1/live?layout=opening").status_code == 200
