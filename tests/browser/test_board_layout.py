"""The board at a real hall's size: 1 to 40 counters, 12 services, at 1920x1080 and 3840x2160.

Each layout is measured in a real chromium: no tile outside the serving area, no two tiles
overlapping, no text overflowing its box, and the called number above a size threshold read
from 10 m.  The thresholds, in vmin (1% of the screen's height on a landscape TV):

* up to 4 counters: at least 15 vmin, the size the old board used for up to 8 (which then
  overflowed its tiles);
* 8 counters: at least 9 vmin; 12 counters: at least 7 vmin;
* 20 to 40 counters: at least 5 vmin (54 px on a 1080p TV: about 35 mm of type on a 55-inch
  screen, 25 mm capitals, legible from 10 m); the latest call in the side panel stays at
  least 7 vmin whatever the count;
* the "请 A013 号准备 · Next: A013" line: every shown service's next number, at least 3 vmin
  (32 px at 1080p, about 20 mm capitals on a 55-inch screen), below the tiles.

The hall has a notice too long for one screen's width, so every layout is measured with both
lines of the board's foot shown (the tiles must keep their sizes with them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import shot
from tests.live import ROOT, LiveServer, live_server, server_env

pytestmark = pytest.mark.browser

EXTRA_COUNTERS = range(31, 41)  # the large seed has 30; a 40-window hall gets ten more

SETUP = """
import json, sys
from kiosk import create_app
from kiosk.auth import issue_token
from kiosk.extensions import db
from queue_engine.core.models import User
from kiosk.cli.seed_large import GENERAL
from queue_engine.hall.admin import hall_record, save_counter, save_hall
from queue_engine.hall.calendar import hall_settings
app = create_app()
with app.app_context():
    clock = app.config["QMS_CLOCK"]
    extra = [
        save_counter(db.session, clock, None, {"name": str(n), "services": list(GENERAL), "active": "1"})
        for n in range(31, 41)
    ]
    hall = hall_settings(db.session)
    save_hall(db.session, clock, None, {**hall_record(hall), "notice": json.loads(sys.argv[1])})
    tokens = {}
    for n in range(1, 41):
        user = db.session.query(User).filter_by(username=f"clerk{n}").one()
        user.counters = list(user.counters) + extra
        tokens[n] = issue_token(user)
    db.session.commit()
    print(json.dumps(tokens))
"""

LONG_NOTICE = {
    "zh": "温馨提示：本大厅周六上午 9:00-12:00 办理社保医保、公积金业务；请携带身份证原件及复印件，"
    "老年人、残疾人、孕妇可到综合窗口优先办理；大厅内请保持安静，勿在叫号区域逗留。",
    "en": "Saturday mornings 9:00-12:00: social insurance and housing fund only. "
    "Bring your ID card and a copy. "
    "Elderly, disabled and pregnant visitors are served first at the general windows.",
}
SHORT_NOTICE = {"zh": "今日 16:00 停止取号", "en": "No new tickets after 16:00"}

# Set the hall's notice from another process, as an admin's save would (the server picks it up).
SET_NOTICE = """
import json, sys
from kiosk import create_app
from kiosk.extensions import db
from queue_engine.hall.admin import hall_record, save_hall
from queue_engine.hall.calendar import hall_settings
app = create_app()
with app.app_context():
    hall = hall_settings(db.session)
    notice = json.loads(sys.argv[1])
    save_hall(db.session, app.config["QMS_CLOCK"], None, {**hall_record(hall), "notice": notice})
    db.session.commit()
"""

# Everything the board shows, measured: what overflows, what lies outside its box, the sizes.
MEASURE = (Path(__file__).parent / "measure_board.js").read_text()


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[int, dict[str, str]]]]:
    """A 40-counter, 12-service hall with a morning's queue, every open counter holding a call."""
    folder = tmp_path_factory.mktemp("large")
    env = server_env(f"sqlite:///{folder / 'qms.sqlite3'}")
    for command in (["init-db"], ["seed-demo", "--size", "large"]):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "kiosk", *command],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
    made = subprocess.run(
        [sys.executable, "-c", SETUP, json.dumps(LONG_NOTICE)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    tokens = {
        int(n): {"Authorization": f"Bearer {t}"} for n, t in json.loads(made.stdout.splitlines()[-1]).items()
    }
    with live_server(env, prepare=False, log=folder / "server.log") as server:
        codes = [s["code"] for s in requests.get(server.url + "/api/v1/services", timeout=5).json()]
        for i in range(140):
            taken = requests.post(
                server.url + "/api/v1/tickets", json={"service": codes[i % len(codes)]}, timeout=5
            )
            assert taken.status_code == 201, taken.text
        for n in range(1, 41):
            if n % 9 == 0:
                continue  # a few windows stay closed
            called = requests.post(
                f"{server.url}/api/v1/counters/{n}/call-next", headers=tokens[n], timeout=5
            )
            assert called.status_code == 200, called.text
        yield server, tokens


def counters_query(count: int) -> str:
    return "" if count == 40 else "?counters=" + ",".join(str(n) for n in range(1, count + 1))


def threshold_vmin(count: int) -> float:
    return 15 if count <= 4 else 9 if count <= 8 else 7 if count <= 12 else 5


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=["1080p", "4k"])
@pytest.mark.parametrize("count", [1, 4, 8, 12, 20, 30, 40])
def test_the_board_fits_every_counter_readably(hall, new_page, size, count):
    server, _tokens = hall
    board = new_page(*size)
    board.goto(server.url + "/display" + counters_query(count))
    board.locator("body[data-live='yes']").wait_for()
    found = board.evaluate(MEASURE)
    assert found["tiles"] == count
    assert found["problems"] == []
    assert found["number_px"] >= threshold_vmin(count) * found["vmin"], found
    assert found["latest_px"] is not None and found["latest_px"] >= 7 * found["vmin"], found
    assert sum(1 for n in found["numbers"] if n != "—") >= count * 0.8  # the calls are shown
    # The next numbers of the board's services, as the engine states them, all on the line.
    expected = requests.get(server.url + "/api/v1/display" + counters_query(count), timeout=5).json()["next"]
    assert expected, "the queue has people waiting"
    assert found["next_text"] is not None, found
    assert all(number in found["next_text"] for number in expected.values()), (expected, found)
    assert found["next_px"] >= 3 * found["vmin"], found
    if count in (8, 40):
        shot(board, f"board-{count}-counters-{size[0]}x{size[1]}")


def test_a_call_flashes_for_seconds_on_the_board(hall, new_page):
    server, tokens = hall
    board = new_page(1920, 1080)
    board.goto(server.url + "/display")
    board.locator("body[data-live='yes']").wait_for()
    # Finish counter 5's visitor, then call the next one: the tile must flash.
    held = requests.get(f"{server.url}/api/v1/counters", headers=tokens[5], timeout=5).json()
    ticket = next(c["ticket"] for c in held if c["id"] == 5)
    done = requests.post(
        f"{server.url}/api/v1/tickets/{ticket['token']}/finish",
        headers=tokens[5],
        json={"outcome": "resolved"},
        timeout=5,
    )
    assert done.status_code == 200, done.text
    called = requests.post(f"{server.url}/api/v1/counters/5/call-next", headers=tokens[5], timeout=5)
    assert called.status_code == 200, called.text
    number = called.json()["ticket"]["number"]
    tile = ".counter-tile[data-counter-id='5']"
    board.wait_for_function(
        "([sel, n]) => document.querySelector(sel + ' .tile-number').textContent === n", arg=[tile, number]
    )
    samples = board.evaluate(
        """sel => new Promise(done => { const seen = []; const t = setInterval(() => {
             seen.push(document.querySelector(sel).classList.contains('calling'));
             if (seen.length === 45) { clearInterval(t); done(seen); } }, 100); })""",
        tile,
    )
    # The snapshot that follows the call redraws the board; the flash must outlive it.
    assert sum(samples[:30]) >= 25, samples


def test_an_unknown_service_on_the_board_is_said(hall, new_page):
    server, _tokens = hall
    board = new_page(1920, 1080)
    board.goto(server.url + "/display?services=Z")
    warning = board.locator("#board-warning")
    assert "Z" in warning.inner_text()
    assert "没有此业务" in warning.inner_text() and "No such service" in warning.inner_text()


def test_the_large_seed_is_a_real_hall(hall):
    server, _tokens = hall
    services = requests.get(server.url + "/api/v1/services", timeout=5).json()
    assert len(services) == 12
    categories = requests.get(server.url + "/api/v1/display", timeout=5).json()["counters"]
    assert len(categories) == 40
    general = [c for c in categories if len(c["services"]) >= 10]
    specialised = [c for c in categories if len(c["services"]) <= 2]
    assert len(general) >= 16 and len(specialised) >= 10


def set_notice(server: LiveServer, notice: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-c", SET_NOTICE, json.dumps(notice)],
        env=server.env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )


# The notice line as seen: its text's width against the line's, whether it moves.
NOTICE_STATE = """async () => {
  const box = document.getElementById('notice'), text = box.querySelector('.notice-text');
  const style = getComputedStyle(box);
  const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const where = () => new DOMMatrix(getComputedStyle(text).transform).m41;
  const before = where();
  await new Promise(done => setTimeout(done, 400));
  const main = document.querySelector('.board-main').getBoundingClientRect();
  return {
    shown: box.offsetParent !== null, text: text.textContent, scrolling: box.classList.contains('scrolling'),
    wider: text.scrollWidth - parseFloat(getComputedStyle(text).paddingLeft) > room + 1,
    running: text.getAnimations().some(a => a.playState === 'running'), moved: Math.abs(where() - before) > 1,
    below_tiles: box.getBoundingClientRect().top >= main.bottom - 1,
    px: parseFloat(style.fontSize),
  };
}"""


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=["1080p", "4k"])
def test_a_long_notice_scrolls_and_a_short_one_stands_still(hall, new_page, size):
    server, _tokens = hall
    board = new_page(*size)
    board.goto(server.url + "/display")
    board.locator("body[data-live='yes']").wait_for()
    long = board.evaluate(NOTICE_STATE)
    assert long["shown"] and LONG_NOTICE["zh"] in long["text"] and LONG_NOTICE["en"] in long["text"], long
    assert long["wider"] and long["scrolling"] and long["running"] and long["moved"], long
    assert long["below_tiles"] and long["px"] >= 3 * min(size) / 100, long
    shot(board, f"board-notice-long-{size[0]}x{size[1]}")
    try:
        set_notice(server, SHORT_NOTICE)
        board.wait_for_function(
            "t => document.querySelector('#notice .notice-text').textContent.includes(t)",
            arg=SHORT_NOTICE["zh"],
            timeout=20000,
        )
        short = board.evaluate(NOTICE_STATE)
        assert short["shown"] and SHORT_NOTICE["en"] in short["text"], short
        assert (
            not short["wider"] and not short["scrolling"] and not short["running"] and not short["moved"]
        ), short
        assert short["below_tiles"], short
    finally:
        set_notice(server, LONG_NOTICE)  # the hall as the other tests measure it
