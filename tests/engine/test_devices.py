"""The devices' heartbeats on the engine, on SQLite and PostgreSQL: one row per device, the cap,
silence measured by the hall clock."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from queue_engine.hall.devices import BadHeartbeat, Device, devices_overview, heartbeat_of, record_heartbeat


def _beat(session, clock, cap=500, address="10.0.0.7", **data):
    recorded = record_heartbeat(session, clock.now(), heartbeat_of(data), address, max_devices=cap)
    session.commit()
    return recorded


def test_a_device_keeps_one_row_its_first_contact_and_its_latest_state(session, clock):
    assert _beat(session, clock, kind="board", name="大厅主屏", sound=False, version="a1")
    first = clock.now()
    clock.advance(seconds=20)
    assert _beat(session, clock, address="10.0.0.8", kind="board", name="大厅主屏", sound=True, version="a2")

    (device,) = devices_overview(session, clock.now(), page_version="a2")
    assert device["first_seen"] == first.isoformat().replace("+00:00", "Z")
    assert (device["address"], device["sound_on"], device["page_version"], device["silent_s"]) == (
        "10.0.0.8",
        True,
        "a2",
        0,
    )
    assert not device["outdated"] and not device["warn"]


def test_silence_and_a_failed_printer_are_alerts_a_mute_board_a_warning(session, clock):
    _beat(session, clock, kind="kiosk", name="K1", printer="failed")
    _beat(session, clock, kind="board", name="B1", sound=False)
    _beat(session, clock, kind="window", name="W1")
    clock.advance(seconds=30)
    _beat(session, clock, kind="window", name="W2")
    clock.advance(seconds=31)

    shown = {d["name"]: (d["alert"], d["warn"], d["silent"]) for d in devices_overview(session, clock.now())}

    assert shown == {
        "K1": (True, False, True),
        "B1": (True, True, True),
        "W1": (True, False, True),
        "W2": (False, False, False),
    }
    later = devices_overview(session, clock.now(), silent_after_s=120)
    assert [(d["name"], d["alert"]) for d in later][:2] == [("K1", True), ("B1", False)]


def test_new_names_stop_at_the_cap_while_known_devices_go_on_reporting(session, clock):
    for n in range(5):
        assert _beat(session, clock, cap=5, kind="kiosk", name=f"K{n}")

    assert not _beat(session, clock, cap=5, kind="kiosk", name="K-new")
    clock.advance(seconds=40)
    assert _beat(session, clock, cap=5, kind="kiosk", name="K0", printer="ok")

    assert session.scalar(select(func.count()).select_from(Device)) == 5
    k0 = next(d for d in devices_overview(session, clock.now()) if d["name"] == "K0")
    assert (k0["silent_s"], k0["printer"]) == (0, "ok")


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "toaster", "name": "x"},
        {"kind": "board"},
        {"kind": "board", "name": " \x00 "},
        {"kind": "board", "name": "b", "sound": "yes"},
        {"kind": "kiosk", "name": "k", "printer": "jammed"},
        ["board"],
    ],
)
def test_what_is_not_a_heartbeat_is_refused(data):
    with pytest.raises(BadHeartbeat):
        heartbeat_of(data)


def test_names_and_versions_are_cut_to_their_columns():
    beat = heartbeat_of({"kind": "board", "name": "  大厅\n主屏 " + "x" * 100, "version": "v" * 99})
    assert beat.name.startswith("大厅 主屏") and len(beat.name) == 64
    assert len(beat.page_version or "") == 40
