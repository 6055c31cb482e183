"""Browser fixtures: Debian's chromium driven by Playwright against a real server process."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.live import LiveServer, live_server, server_env

CHROMIUM = os.environ.get("QMS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
# Without the background-networking flags chromium keeps calling out to a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless chromium for the session; skips loudly when chromium is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"SKIPPED (no browser): {CHROMIUM} not found; `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server with the demo hall on its own SQLite file, for one test module."""
    folder = tmp_path_factory.mktemp("live")
    env = server_env(f"sqlite:///{folder / 'qms.sqlite3'}")
    with live_server(env, log=folder / "server.log") as running:
        yield running


@pytest.fixture
def new_page(browser: object) -> Iterator[Callable[..., object]]:
    """Opens pages in fresh browser contexts (own cookies), closed after the test."""
    contexts = []

    def open_page(width: int = 1280, height: int = 800, **options: object) -> object:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)  # type: ignore[attr-defined]
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors
        return page

    yield open_page
    for context in contexts:
        context.close()


def shot(page: object, name: str) -> Path:
    """Save a screenshot under tests/browser/artifacts/ (git-ignored) to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    return path
