"""The admin pages in a real chromium: a change on /admin reaches an open kiosk and board live."""

from __future__ import annotations

import re

import pytest
import requests

from tests.browser.conftest import shot
from tests.live import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, server, username: str = "admin", next_path: str = "/admin") -> None:
    page.goto(f"{server.url}/login?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def service_row(page, code: str):
    return page.locator(f"form.service-row[data-service='{code}']")


def test_renaming_a_service_changes_the_kiosk_button_without_a_reload(server, new_page):
    kiosk = new_page(1080, 1920)
    kiosk.goto(server.url + "/kiosk?lang=en")
    button = kiosk.locator(".service[data-service='B'] .name")
    assert button.inner_text() == "Transactions"
    kiosk.evaluate("window.__notReloaded = true")
    board = new_page(1920, 1080)
    board.goto(server.url + "/display")
    board.locator(".waiting-row").first.wait_for()

    admin = new_page(1440, 1000)
    log_in(admin, server, next_path="/admin/services")
    row = service_row(admin, "B")
    row.locator("input[name=name_en]").fill("Licences and permits")
    row.locator("input[name=name_zh]").fill("证照办理")
    row.locator("button:has-text('Save')").click()
    service_row(admin, "B").locator(".form-message.ok").wait_for()

    kiosk.wait_for_function(
        "document.querySelector(\".service[data-service='B'] .name\").textContent === 'Licences and permits'",
        timeout=15000,
    )
    assert kiosk.evaluate("window.__notReloaded") is True
    board.locator(".waiting-row .l-zh:has-text('证照办理')").wait_for(timeout=15000)
    shot(kiosk, "admin-live-kiosk-renamed")
    shot(board, "admin-live-board-renamed")

    # Closing the service greys the button out on the kiosk, still without a reload.
    row = service_row(admin, "B")
    row.locator("input[name=active]").uncheck()
    row.locator("button:has-text('Save')").click()
    admin.locator("form.service-row.inactive[data-service='B']").wait_for()
    kiosk.wait_for_function(
        "document.querySelector(\".service[data-service='B']\").disabled === true", timeout=15000
    )
    assert kiosk.evaluate("window.__notReloaded") is True
    assert not kiosk.js_errors and not admin.js_errors and not board.js_errors
    open_now = {s["code"] for s in requests.get(server.url + "/api/v1/services", timeout=5).json()}
    assert open_now == {"A", "C", "D"}


def test_a_refused_form_keeps_what_was_typed(server, new_page):
    admin = new_page(1440, 1000)
    log_in(admin, server, next_path="/admin/services")
    row = service_row(admin, "C")
    row.locator("input[name=prefix]").fill("A")  # service A prints A001 already
    row.locator("input[name=name_en]").fill("Complaints desk")
    row.locator("button:has-text('Save')").click()
    refused = service_row(admin, "C")
    refused.locator(".form-message.bad").wait_for()
    assert refused.locator("input[name=prefix]").get_attribute("aria-invalid") == "true"
    assert refused.locator("input[name=name_en]").input_value() == "Complaints desk"
    assert "already prints A001" in refused.locator(".row-errors").inner_text()
    shot(admin, "admin-services-refused")
    services = {s["code"]: s for s in requests.get(server.url + "/api/v1/services?lang=en", timeout=5).json()}
    assert services["C"]["prefix"] == "C" and services["C"]["name"] == "Complaints"


def test_screenshots_of_every_admin_page(server, new_page, tmp_path):
    admin = new_page(1440, 1000)
    log_in(admin, server)
    shot(admin, "admin-overview")
    for path, name in [
        ("/admin/counters", "admin-counters"),
        ("/admin/hall", "admin-hall"),
        ("/admin/audit", "admin-audit"),
        ("/admin/config", "admin-config"),
    ]:
        admin.goto(server.url + path)
        shot(admin, name)

    admin.goto(server.url + "/admin/staff")
    card = admin.locator("form.user-form[data-username='clerk3']").locator("xpath=..")
    card.locator("button:has-text('Issue a token')").click()
    token = card.locator(".secret-value")
    token.wait_for()
    assert token.inner_text().startswith("qms_")
    headers = {"Authorization": f"Bearer {token.inner_text()}"}
    assert requests.get(server.url + "/api/v1/counters", headers=headers, timeout=5).status_code == 200
    shot(admin, "admin-staff-token")

    admin.goto(server.url + "/admin/kiosks")
    admin.fill("input[name=name]", "Entrance · 入口")
    admin.click("button:has-text('Register')")
    link = admin.locator(".secret-value")
    link.wait_for()
    assert "/kiosk/register/" in link.inner_text()
    shot(admin, "admin-kiosks-link")

    config = tmp_path / "hall.json"
    config.write_text(server.flask("export-config"), encoding="utf-8")
    admin.goto(server.url + "/admin/config")
    admin.set_input_files("input[name=file]", str(config))
    admin.click("button:has-text('Check only')")
    admin.locator("#import-result .form-message.ok").wait_for()
    assert "nothing was changed" in admin.locator("#import-result").inner_text()
    shot(admin, "admin-config-checked")
    admin.on("dialog", lambda dialog: dialog.accept())  # "Make this hall's set-up the file's?"
    admin.click("button:has-text('Import')")
    admin.locator("#import-result .form-message.ok:has-text('Imported')").wait_for()

    admin.goto(server.url + "/admin/services")
    admin.fill("#service-new input[name=code]", "Z")
    admin.fill("#service-new input[name=prefix]", "Z")
    admin.fill("#service-new input[name=name_zh]", "临时")
    admin.fill("#service-new input[name=name_en]", "Temporary")
    admin.click("#service-new button:has-text('Add')")
    service_row(admin, "Z").wait_for()  # appended to the list without a reload
    service_row(admin, "Z").locator("button:has-text('Delete')").click()  # confirmed by the handler above
    admin.locator("#admin-flash:has-text('Service Z deleted')").wait_for()
    assert service_row(admin, "Z").count() == 0

    admin.goto(server.url + "/admin/hall")
    admin.uncheck("input[name=always_open]")
    admin.fill("input[name=hours_0]", "08:30-12:00, 13:30-25:00")
    admin.click("button:has-text('Save the hall settings')")
    admin.locator("#hall-form .form-message.bad").first.wait_for()
    assert admin.locator("input[name=hours_0]").input_value() == "08:30-12:00, 13:30-25:00"
    shot(admin, "admin-hall-refused")
    assert not admin.js_errors
