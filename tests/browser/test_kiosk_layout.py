"""The kiosk at a real hall's size: 12 and 20 services on one screen, portrait and landscape.

Measured in a real chromium, in Chinese and English: every service button on the screen
without scrolling, none overlapping another, each showing all of its text, and each at least
11 vmin tall (about 12 mm on a 32-inch kiosk: a touch target for any finger); the service's
name at least 2.2 vmin up to 12 services (24 px on a 1080-pixel-wide screen, about 9 mm on a
32-inch kiosk: read with ease from 1 m) and 1.9 vmin at 20 (20 px, 7.5 mm: the long English
names of a 20-service hall in landscape, four columns, still read from 1 m).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update

from queue_engine.core.models import Hall
from tests.browser.conftest import shot
from tests.live import ROOT, LiveServer, live_server, server_env

pytestmark = pytest.mark.browser

MEASURE = (Path(__file__).parent / "measure_layout.js").read_text()

MORE_SERVICES = """
from kiosk import create_app
from kiosk.extensions import db
from queue_engine.core.models import Counter
from queue_engine.hall.admin import save_service
from sqlalchemy import select
app = create_app()
names = [("低保救助", "Social assistance"), ("残疾人服务", "Services for disabled people"),
         ("婚姻登记", "Marriage registration"), ("水电气报装", "Water, power and gas connections"),
         ("人才服务", "Talent services"), ("工程建设审批", "Construction permits"),
         ("食品经营许可", "Food business licences"), ("法律援助", "Legal aid")]
with app.app_context():
    for i, (zh, en) in enumerate(names):
        code = "NPQRSTUV"[i]
        service = save_service(db.session, app.config["QMS_CLOCK"], None, {
            "code": code, "prefix": code, "names": {"zh": zh, "en": en}, "category": "transaction",
            "active": "1", "start_number": "1", "target_wait_min": "20", "sort_order": str(20 + i)})
        # served by the general windows, so that visitors are offered them (not "not served now")
        for counter in db.session.scalars(select(Counter).order_by(Counter.id).limit(4)):
            counter.services.append(service)
    db.session.commit()
"""


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The large hall (12 services); the tests add 8 more for a 20-service hall."""
    folder = tmp_path_factory.mktemp("kiosk-large")
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
    with live_server(env, prepare=False, log=folder / "server.log") as server:
        yield server


def measure(new_page, server, size, lang):
    kiosk = new_page(*size)
    kiosk.goto(f"{server.url}/kiosk?lang={lang}")
    kiosk.locator("#services .service").first.wait_for()
    kiosk.evaluate("document.fonts.ready")
    found = kiosk.evaluate(MEASURE, ["#services .service", "#screen"])
    found["name_px"] = kiosk.evaluate(
        "Math.min(...[...document.querySelectorAll('#services .service .name')]"
        ".map(n => parseFloat(getComputedStyle(n).fontSize)))"
    )
    return kiosk, found


def check(found, count, name_vmin=2.2):
    assert found["count"] == count
    assert found["problems"] == []
    assert not found["scrollable"]
    assert found["min_height_vmin"] >= 11, found
    assert found["name_px"] >= name_vmin * found["vmin"], found


SIZES = [(1080, 1920), (1920, 1080)]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", SIZES, ids=["portrait", "landscape"])
def test_twelve_services_fit_one_screen(hall, new_page, size, lang):
    kiosk, found = measure(new_page, hall, size, lang)
    check(found, 12)
    shot(kiosk, f"kiosk-12-services-{size[0]}x{size[1]}-{lang}")


def test_twenty_services_fit_one_screen(hall, new_page):
    subprocess.run(
        [sys.executable, "-c", MORE_SERVICES],
        env=hall.env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    for size in SIZES:
        for lang in ("zh", "en"):
            kiosk, found = measure(new_page, hall, size, lang)
            check(found, 20, name_vmin=1.9)
            shot(kiosk, f"kiosk-20-services-{size[0]}x{size[1]}-{lang}")


def test_twenty_services_and_the_priority_choice_fit_one_screen(hall, new_page):
    """Runs after the twenty-service test (same module hall): the choice takes room from the grid."""
    engine = create_engine(hall.env["QMS_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(update(Hall).values(priority_policy="priority_first"))
    engine.dispose()
    for size in SIZES:
        for lang in ("zh", "en"):
            kiosk = new_page(*size)
            kiosk.goto(f"{hall.url}/kiosk?lang={lang}")
            kiosk.locator("#priority-choice").wait_for()
            kiosk.evaluate("document.fonts.ready")
            found = kiosk.evaluate(MEASURE, ["#services .service, #priority-choice", "#screen"])
            assert found["count"] == 21 and found["problems"] == [] and not found["scrollable"], found
            assert found["min_height_vmin"] >= 11, (size, lang, found)
            assert kiosk.locator("#services .service:not([disabled])").count() == 20
            shot(kiosk, f"kiosk-20-services-priority-{size[0]}x{size[1]}-{lang}")
