"""'Text me before my turn' in a real chromium against a real server process: the HTMX form
(with its CSRF token) keeps the number, shows it masked, and the server's own outbox worker
texts the call to a real local SMS gateway."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from queue_engine.notify.visitors import save_channel_settings
from tests.browser.conftest import shot
from tests.live import LiveServer, live_server, prepare_database, server_env
from tests.receiver import Gateway

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    found = Gateway()
    found.start()
    yield found
    found.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, gateway: Gateway) -> Iterator[LiveServer]:
    """The demo hall with the SMS gateway set before the server starts: a server process reads
    the channel settings again only every STATE_SECONDS, so settings saved under a running one
    would show on the phone page only that much later."""
    folder = tmp_path_factory.mktemp("live")
    env = server_env(f"sqlite:///{folder / 'qms.sqlite3'}")
    prepare_database(env)
    engine = create_engine(env["QMS_DATABASE_URL"])
    with Session(engine) as session:
        save_channel_settings(session, {"sms_url": gateway.url}, datetime.now(UTC), None)
        session.commit()
    engine.dispose()
    with live_server(env, prepare=False, log=folder / "server.log") as running:
        yield running


def take(server: LiveServer, code: str, lang: str) -> dict[str, str]:
    answer = requests.post(server.url + "/api/v1/tickets", json={"service": code, "lang": lang}, timeout=5)
    assert answer.status_code == 201
    found: dict[str, str] = answer.json()
    return found


def test_a_visitor_leaves_a_number_on_the_phone_page_and_is_texted_when_called(
    server: LiveServer, new_page: object, gateway: Gateway
) -> None:
    first, mine = take(server, "D", "en"), take(server, "D", "en")
    page = new_page(390, 844, is_mobile=True, has_touch=True)  # type: ignore[operator]
    page.goto(f"{server.url}/t/{mine['token']}")
    page.locator("#sms-ask").wait_for(timeout=10_000)

    page.fill("#sms-ask input[name=phone]", "13812345678")
    page.click("#sms-ask button[type=submit]")
    page.locator("#sms-ask .sms-done").wait_for(timeout=10_000)
    shot(page, "phone-text-me-en")
    assert "138****5678" in page.locator("#sms-ask").inner_text()
    assert "13812345678" not in page.content()
    for _ in (first, mine):
        called = requests.post(
            server.url + "/api/v1/counters/4/call-next", headers=server.token("clerk4"), timeout=5
        )
        assert called.status_code == 200, called.text
        requests.post(
            server.url + f"/api/v1/tickets/{called.json()['ticket']['token']}/finish",
            json={"outcome": "resolved"},
            headers=server.token("clerk4"),
            timeout=5,
        )
    deadline = time.monotonic() + 15
    while not gateway.texts() and time.monotonic() < deadline:
        time.sleep(0.2)

    (text,) = gateway.texts()
    assert text["phone"] == "13812345678"
    assert text["message"].endswith(f"number {mine['number']}, please go to counter 4.")
    assert page.js_errors == []  # type: ignore[attr-defined]
