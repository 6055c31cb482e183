"""The window screen's page and room: public, live, and free of visitors' personal data."""

from __future__ import annotations

from kiosk.extensions import socketio
from tests.web.helpers import delivered


def _updates(sio) -> list[dict]:
    return [m["args"][0] for m in delivered(sio) if m["name"] == "window:update"]


def test_the_window_room_gets_the_number_the_state_and_the_clerk(app, client, auth, take_ticket):
    clerk = auth("clerk2")
    screen = app.test_client()  # the screen's own browser
    page = screen.get("/display/counter/2")
    assert page.status_code == 200 and "窗口关闭 · Closed" in page.get_data(as_text=True)
    sio = socketio.test_client(app)
    sio.emit("join", {"room": "window", "counter_id": 2})
    (first,) = _updates(sio)
    assert (first["state"], first["number"], first["clerk"]) == ("closed", None, None)

    ticket = take_ticket("A")
    assert client.post("/api/v1/counters/2/call-next", headers=clerk).status_code == 200
    last = _updates(sio)[-1]
    assert (last["state"], last["number"], last["status"]) == ("open", ticket["number"], "called")
    assert last["clerk"]["staff_number"] == "clerk2" and last["clerk"]["name"]
    finish = {"outcome": "resolved", "customer_name": "张三丰", "contact": "13800001234"}
    assert (
        client.post(f"/api/v1/tickets/{ticket['token']}/finish", json=finish, headers=clerk).status_code
        == 200
    )
    assert client.post("/api/v1/counters/2/pause", json={}, headers=clerk).status_code == 200
    seen = _updates(sio)
    assert seen[-1]["state"] == "paused" and seen[-1]["number"] is None
    assert "张三丰" not in str(seen) and "13800001234" not in str(seen)
    html = screen.get("/display/counter/2").get_data(as_text=True)
    assert "暂停服务 · Paused" in html and "张三丰" not in html
    sio.disconnect()


def test_an_unknown_window_is_refused(app, client):
    assert client.get("/display/counter/999").status_code == 404
    sio = socketio.test_client(app)
    sio.emit("join", {"room": "window", "counter_id": 999})
    assert [m["name"] for m in delivered(sio)] == ["error"]
    sio.disconnect()
