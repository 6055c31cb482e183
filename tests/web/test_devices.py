"""Equipment heartbeats (设备故障应急, issue 16 item 6): public screens report over their socket,
the supervisor's live view and /api/v1/devices list them, silent ones and failed printers alert."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from kiosk.extensions import db, socketio
from kiosk.heartbeats import HEARTBEATS
from queue_engine import FakeClock
from queue_engine.core.models import AuditEntry
from queue_engine.hall.devices import Device
from tests.web.staff_login import log_in


@pytest.fixture
def screen(app: Flask) -> Iterator[Callable[[], Any]]:
    """Opens anonymous Socket.IO clients (public screens), closed after the test."""
    opened: list[Any] = []

    def open_screen() -> Any:
        sio = socketio.test_client(app)
        assert sio.is_connected()
        opened.append(sio)
        return sio

    yield open_screen
    for sio in opened:
        if sio.is_connected():
            sio.disconnect()


def beat(sio: Any, **data: Any) -> dict[str, Any]:
    """Send one heartbeat; the server's acknowledgement."""
    answer: dict[str, Any] = sio.emit("heartbeat", data, callback=True)
    return answer


def rows(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Device)))


def device_row(page: str, name: str) -> str:
    """The live view's table row of one device (its HTML)."""
    pattern = rf'<tr class="device[^"]*"[^>]*data-device-name="{re.escape(name)}">.*?</tr>'
    found = re.search(pattern, page, re.S)
    assert found, f"{name} is listed"
    return found.group(0)


def live_view(app: Flask, username: str = "supervisor") -> str:
    supervisor = app.test_client()
    log_in(supervisor, username)
    answer = supervisor.get("/supervisor", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_a_boards_heartbeat_is_shown_to_the_supervisor_with_its_sound_state(app, screen, auth, client):
    board = screen()

    assert beat(board, kind="board", name="大厅主屏", sound=False, version="v1") == {"ok": True}

    row = device_row(live_view(app), "大厅主屏")
    assert "叫号屏 · board" in row
    assert "0 秒前 · 0 s ago" in row
    assert "未开启" in row and "off (touch the screen)" in row, "a board that cannot chime says so"
    assert "在线 · online" in row and "alert" not in row.split(">")[0]
    (listed,) = client.get("/api/v1/devices", headers=auth("supervisor")).get_json()
    shown = (listed["kind"], listed["name"], listed["sound_on"], listed["silent"])
    assert shown == ("board", "大厅主屏", False, False)


def test_a_device_that_goes_silent_turns_into_an_alert_once_its_time_has_passed(
    app, screen, auth, client, clock: FakeClock
):
    kiosk = screen()
    assert beat(kiosk, kind="kiosk", name="取号机 1", printer="ok")["ok"]

    clock.advance(seconds=60)
    assert "alert" not in device_row(live_view(app), "取号机 1").split(">")[0], "60 s is not yet silent"

    clock.advance(seconds=61)
    row = device_row(live_view(app), "取号机 1")
    assert 'class="device alert"' in row
    assert "失联 · silent" in row and "2 分钟前 · 2 min ago" in row
    (listed,) = client.get("/api/v1/devices", headers=auth("admin")).get_json()
    assert (listed["silent"], listed["alert"], listed["silent_s"]) == (True, True, 121)


def test_a_kiosk_whose_printer_failed_is_an_alert_until_it_prints_again(app, screen, auth, client):
    kiosk = screen()
    board = screen()
    assert beat(kiosk, kind="kiosk", name="东门取号机", printer="failed")["ok"]
    assert beat(board, kind="board", name="大厅主屏", sound=True)["ok"]

    devices = client.get("/api/v1/devices", headers=auth("supervisor")).get_json()
    listed = [(d["name"], d["alert"]) for d in devices]
    assert listed == [("东门取号机", True), ("大厅主屏", False)], "alerts first"
    row = device_row(live_view(app), "东门取号机")
    assert 'class="device alert"' in row and "打印机故障 · printer failed" in row

    kiosk.disconnect()  # the page reloads: a new socket, the same kiosk
    again = screen()
    assert beat(again, kind="kiosk", name="东门取号机", printer="ok")["ok"]
    assert 'class="device"' in device_row(live_view(app), "东门取号机")
    assert rows(app) == 2, "one row per device, however often it reconnects"


@pytest.mark.parametrize("username", ["clerk1", None])
def test_clerks_and_anonymous_callers_see_no_devices(app, screen, auth, client, username):
    beat(screen(), kind="window", name="窗口屏 3")
    headers = auth(username) if username else {}

    answer = client.get("/api/v1/devices", headers=headers)

    assert answer.status_code == (403 if username else 401)
    assert "窗口屏 3" not in answer.get_data(as_text=True)
    page = app.test_client()
    if username:
        log_in(page, username)
    assert "窗口屏 3" not in page.get("/supervisor").get_data(as_text=True)


def test_one_socket_is_heard_at_most_once_every_few_seconds(app, screen):
    board = screen()
    assert beat(board, kind="board", name="B1")["ok"]

    answers = [beat(board, kind="board", name=f"fake-{n}") for n in range(50)]

    assert {a["code"] for a in answers} == {"too_often"}
    assert rows(app) == 1


def test_a_heartbeat_that_is_not_one_records_nothing(app, screen):
    for data in ({"kind": "toaster", "name": "x"}, {"kind": "board"}, {"kind": "board", "name": 5}, "board"):
        sio = screen()
        answer = sio.emit("heartbeat", data, callback=True)
        assert answer["code"] == "invalid_input", data
    assert rows(app) == 0


def test_a_flood_of_a_thousand_invented_names_stops_at_the_cap_and_real_devices_keep_reporting(
    app, screen, auth, client, clock: FakeClock
):
    real = screen()
    assert beat(real, kind="board", name="大厅主屏")["ok"]

    refused = 0
    for n in range(1000):
        sio = socketio.test_client(app)  # each invented name on a socket of its own
        refused += beat(sio, kind="kiosk", name=f"fake-{n}") == {"ok": False, "code": "too_many_devices"}
        sio.disconnect()

    assert rows(app) == 500, "the table stops at QMS_DEVICES_MAX (500)"
    assert refused == 501
    assert len(app.extensions[HEARTBEATS].last_heard) == 1, "closed sockets leave nothing behind"
    clock.advance(seconds=90)
    real.disconnect()
    assert beat(screen(), kind="board", name="大厅主屏")["ok"], "a known device is still heard"
    devices = client.get("/api/v1/devices", headers=auth("supervisor")).get_json()
    board = next(d for d in devices if d["kind"] == "board")
    assert (board["name"], board["silent"]) == ("大厅主屏", False)


def test_the_supervisor_forgets_silent_devices_and_frees_their_places(app, screen, auth, client, clock):
    for n in range(3):
        assert beat(screen(), kind="board", name=f"fake-{n}")["ok"]
    clock.advance(seconds=61)
    assert beat(screen(), kind="kiosk", name="东门取号机")["ok"]
    clerk = app.test_client()
    clerk_csrf = log_in(clerk, "clerk1")
    assert clerk.post("/supervisor/devices/forget-silent", data={"csrf_token": clerk_csrf}).status_code == 403
    supervisor = app.test_client()
    csrf = log_in(supervisor, "supervisor")
    assert "Forget silent devices" in supervisor.get("/supervisor").get_data(as_text=True)

    answer = supervisor.post(
        "/supervisor/devices/forget-silent", data={"csrf_token": csrf}, headers={"HX-Request": "true"}
    )

    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "fake-0" not in page and 'data-device-name="东门取号机"' in page
    assert "Forget silent devices" not in page
    names = [d["name"] for d in client.get("/api/v1/devices", headers=auth("supervisor")).get_json()]
    assert names == ["东门取号机"]
    with app.app_context():
        (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "forget_silent_devices"))
        assert entry.after == {"forgotten": 3}
