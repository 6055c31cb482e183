"""Equipment heartbeats in a real chromium (设备故障应急): every public screen reports itself,
the supervisor's list shows them, and a board cut off for long reloads itself once it is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.live import LiveServer, live_server, server_env

pytestmark = pytest.mark.browser
RELOAD_AFTER_S = 2


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server whose boards reload after a cut of RELOAD_AFTER_S seconds."""
    folder = tmp_path_factory.mktemp("devices")
    env = server_env(f"sqlite:///{folder / 'qms.sqlite3'}", QMS_BOARD_RELOAD_AFTER_S=str(RELOAD_AFTER_S))
    with live_server(env, log=folder / "server.log") as running:
        yield running


def devices(server: LiveServer, headers: dict[str, str]) -> dict[tuple[str, str], dict]:
    answer = requests.get(server.url + "/api/v1/devices", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return {(d["kind"], d["name"]): d for d in answer.json()}


def reported(page) -> None:
    """Wait until the page's first heartbeat was acknowledged as recorded."""
    page.wait_for_function("() => window.QMS_HEARTBEAT && window.QMS_HEARTBEAT.ok === true", timeout=15000)


def test_every_public_screen_reports_itself_to_the_supervisor(hall, new_page):
    supervisor = hall.token("supervisor")
    tablet_address = hall.flask("register-tablet", "评价器 2", "--counter", "2").strip().splitlines()[-1]
    pages = {
        "/display?device=大厅主屏": ("board", "大厅主屏"),
        "/kiosk?device=东门取号机": ("kiosk", "东门取号机"),
        "/display/counter/3": ("window", "窗口屏 3 · window 3"),
        tablet_address: ("tablet", "评价器 2"),
    }
    for path in pages:
        page = new_page()
        page.goto(hall.url + path)
        reported(page)
        assert page.js_errors == []

    listed = devices(hall, supervisor)
    for key in pages.values():
        assert key in listed, key
        assert not listed[key]["silent"] and not listed[key]["outdated"]
    assert isinstance(listed[("board", "大厅主屏")]["sound_on"], bool)
    assert listed[("kiosk", "东门取号机")]["printer"] == "browser", "browser printing cannot be checked"
    assert all(tablet_address.rsplit("/", 1)[-1] not in name for _, name in listed), "never the device token"


def test_a_board_without_a_name_keeps_the_one_it_made(hall, new_page):
    supervisor = hall.token("supervisor")
    board = new_page()
    board.goto(hall.url + "/display")
    reported(board)
    board.reload()
    reported(board)

    listed = devices(hall, supervisor)
    boards = [name for kind, name in listed if kind == "board" and name.startswith("board-")]
    assert len(boards) == 1, boards


def test_a_board_cut_off_for_long_reloads_itself_once_the_server_is_back(hall, new_page):
    board = new_page(1280, 720)
    board.goto(hall.url + "/display?device=reload-test")
    board.locator("body[data-live='yes']").wait_for()
    board.evaluate("window.QMS_OLD_PAGE = true")

    hall.restart(pause_s=RELOAD_AFTER_S + 1)

    board.wait_for_function("() => window.QMS_OLD_PAGE === undefined", timeout=30000)
    board.locator("body[data-live='yes']").wait_for(timeout=15000)
    assert board.locator("#link-state").is_hidden()
