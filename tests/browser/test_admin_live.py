"""The admin pages in a real chromium: what each shows of the demo hall, and changes reaching screens live.

One server serves the whole module, and its tests run in file order: the first ones only read
the pages, so they see the demo hall as seeded (DESIGN §8); the later ones change it.
Screenshots of each page land in tests/browser/artifacts/ as a by-product.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.browser.conftest import shot
from tests.live import DEMO_PASSWORD

pytestmark = pytest.mark.browser

HALL_TZ = ZoneInfo("Asia/Shanghai")  # the server's default QMS_TIMEZONE; the demo hall sets none
# What a submit of a form would send, field by field (unticked boxes absent), without the CSRF token.
FORM_VALUES_JS = """form => {
  const values = {};
  for (const [name, value] of new FormData(form)) {
    if (name !== "csrf_token") (values[name] ??= []).push(value);
  }
  return values;
}"""


def log_in(page, server, username: str = "admin", next_path: str = "/admin") -> None:
    page.goto(f"{server.url}/login?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def service_row(page, code: str):
    return page.locator(f"form.service-row[data-service='{code}']")


def form_values(form) -> dict[str, Any]:
    """A form's fields as shown: one value as a string, several (ticked boxes) as a list."""
    values = form.evaluate(FORM_VALUES_JS)
    return {name: found[0] if len(found) == 1 and name not in ("services", "counters") else found
            for name, found in values.items()}  # fmt: skip


def heading(page) -> str:
    return page.locator("main h1").inner_text()


def current_nav(page) -> str:
    return page.locator(".admin-nav a[aria-current=page]").inner_text()


def facts(page) -> dict[str, str]:
    """The overview's facts list, term to description."""
    terms = page.locator(".facts dt").all_inner_texts()
    return dict(zip(terms, page.locator(".facts dd").all_inner_texts(), strict=True))


def test_the_overview_shows_the_demo_halls_figures_and_settings(server, new_page):
    admin = new_page(1440, 1000)
    log_in(admin, server)
    assert heading(admin) == "Administration · 系统管理"
    assert current_nav(admin) == "Overview · 概览"
    tiles = {
        re.sub(r"\s+", " ", tile.inner_text().removeprefix(tile.locator("b").inner_text())).strip(): int(
            tile.locator("b").inner_text()
        )
        for tile in admin.locator(".overview .tile").all()
    }
    assert tiles == {
        "open services · 项开放业务": 4,
        "active counters · 个启用窗口": 4,
        "active staff · 名在职人员": 6,
        "registered kiosks · 台登记取号机": 0,
    }
    assert admin.locator("section.panel h2").first.inner_text() == "政务服务大厅 · Service Hall"
    assert facts(admin) == {
        "Now · 现在": "Open · 开放中",
        "Timezone · 时区": "Asia/Shanghai (server default · 服务器默认)",
        "Languages · 语言": "zh, en (server default · 服务器默认)",
        "Opening hours · 开放时间": "always open · 全天开放",
        "Day close · 日终": "at midnight (always open) · 午夜日终",
    }
    assert admin.locator(".recent li").all_inner_texts() == ["Nothing yet · 暂无"]
    shot(admin, "admin-overview")
    assert not admin.js_errors


def test_the_services_page_lists_the_demo_services(server, new_page):
    admin = new_page(1440, 1000)
    log_in(admin, server, next_path="/admin/services")
    assert heading(admin) == "Services · 业务"
    assert current_nav(admin) == "Services · 业务"
    rows = admin.locator("#service-list form.service-row")
    assert rows.evaluate_all("forms => forms.map(f => f.dataset.service)") == ["A", "B", "C", "D"]
    demo = [
        # order, code, names, category, target wait: DESIGN §8's demo hall
        ("0", "A", "咨询", "Inquiry", "inquiry", "10"),
        ("1", "B", "办理", "Transactions", "transaction", "20"),
        ("2", "C", "投诉", "Complaints", "complaint", "15"),
        ("3", "D", "证照领取", "Document collection", "other", "10"),
    ]
    expected = [
        {"sort_order": order, "code": code, "prefix": code, "start_number": "1", "name_zh": zh,
         "name_en": en, "category": category, "target_wait_min": wait, "active": "on"}
        for order, code, zh, en, category, wait in demo
    ]  # fmt: skip
    assert [form_values(row) for row in rows.all()] == expected
    # Each row shows its category by name in both languages, and none is greyed out as closed.
    shown = [row.locator("select[name=category] option:checked").inner_text() for row in rows.all()]
    assert shown == ["Inquiry · 咨询", "Transaction · 办理", "Complaint · 投诉", "Other · 其他"]
    assert admin.locator("form.service-row.inactive").count() == 0
    new = form_values(admin.locator("#service-new"))
    assert (new["code"], new["prefix"], new["name_zh"], new["name_en"]) == ("", "", "", "")
    shot(admin, "admin-services")
    assert not admin.js_errors


def test_the_counters_page_lists_the_demo_counters(server, new_page):
    admin = new_page(1440, 1000)
    log_in(admin, server, next_path="/admin/counters")
    assert heading(admin) == "Counters · 窗口"
    assert current_nav(admin) == "Counters · 窗口"
    rows = admin.locator("#counter-list form.counter-row").all()
    # Counters 1 and 2 serve every service, 3 and 4 a subset each; all active, nobody at them yet.
    assert [form_values(row) for row in rows] == [
        {"name": "1", "services": ["A", "B", "C", "D"], "active": "on"},
        {"name": "2", "services": ["A", "B", "C", "D"], "active": "on"},
        {"name": "3", "services": ["A", "B"], "active": "on"},
        {"name": "4", "services": ["C", "D"], "active": "on"},
    ]
    assert [row.locator(".state").inner_text() for row in rows] == ["Closed · 关闭"] * 4
    chips = rows[0].locator(".chip").all_inner_texts()
    assert [re.sub(r"\s+", " ", chip).strip() for chip in chips] == [
        "A 咨询",
        "B 办理",
        "C 投诉",
        "D 证照领取",
    ]
    shot(admin, "admin-counters")
    assert not admin.js_errors


def test_the_staff_page_lists_the_demo_staff(server, new_page):
    admin = new_page(1440, 1000)
    log_in(admin, server, next_path="/admin/staff")
    assert heading(admin) == "Staff · 人员"
    cards = admin.locator("#user-list form.user-form")
    assert cards.evaluate_all("forms => forms.map(f => f.dataset.username)") == [
        "admin", "clerk1", "clerk2", "clerk3", "clerk4", "supervisor",
    ]  # fmt: skip
    every_counter = ["1", "2", "3", "4"]
    assert [form_values(card) for card in cards.all()] == [
        {"display_name": "管理员 Admin", "role": "admin", "active": "on", "counters": every_counter},
        *[
            {
                "display_name": f"{n}号窗口 Clerk {n}",
                "role": "clerk",
                "active": "on",
                "counters": every_counter,
            }
            for n in range(1, 5)
        ],
        {
            "display_name": "值班长 Supervisor",
            "role": "supervisor",
            "active": "on",
            "counters": every_counter,
        },
    ]
    # The admin sees their own card marked; nobody has an API token yet.
    assert cards.locator(".tag").all_inner_texts() == ["you · 本人"]
    assert admin.locator("form.user-form[data-username='admin'] .tag").inner_text() == "you · 本人"
    tokens = admin.locator(".access .token > span").all_inner_texts()
    assert tokens == ["API token · 接口令牌: none · 无"] * 6
    shot(admin, "admin-staff")
    assert not admin.js_errors


def test_the_hall_page_shows_the_hall_settings(server, new_page):
    admin = new_page(1440, 1000)
    log_in(admin, server, next_path="/admin/hall")
    assert heading(admin) == "Hall · 大厅设置"
    values = form_values(admin.locator("#hall-form"))
    # The demo hall: always open, the server's timezone and languages, strict first come first served.
    assert values == {
        "name_zh": "政务服务大厅",
        "name_en": "Service Hall",
        "timezone": "",
        "languages": "",
        "extra_working_dates": "",
        "always_open": "on",
        **{f"hours_{day}": "" for day in range(7)},
        "closed_dates": "",
        "day_close_delay_min": "60",
        "priority_policy": "strict",
        "priority_every_n": "3",
        "kiosk_ticket_seconds": "8",
        "notice_zh": "",  # no notice on the board
        "notice_en": "",
    }
    assert (
        admin.locator("input[name=timezone]").get_attribute("placeholder") == "Asia/Shanghai (default · 默认)"
    )
    assert (
        admin.locator("select[name=languages] option:checked").inner_text()
        == "Server default · 服务器默认 (zh, en)"
    )
    hints = admin.locator("#hall-form .hint b").all_inner_texts()
    assert hints[:2] == ["Asia/Shanghai", "zh, en"]  # "now in use"
    policy = admin.locator("input[name=priority_policy]:checked").locator("xpath=..").inner_text()
    assert policy.strip() == "First come, first served (priority flag ignored) · 严格按取号顺序"
    shot(admin, "admin-hall")
    assert not admin.js_errors


def test_the_configuration_page_exports_the_halls_set_up(server, new_page, tmp_path):
    admin = new_page(1440, 1000, accept_downloads=True)
    log_in(admin, server, next_path="/admin/config")
    assert heading(admin) == "Configuration file · 配置文件"
    assert admin.locator("h2").all_inner_texts() == ["Export · 导出", "Import · 导入"]
    shot(admin, "admin-config")
    with admin.expect_download() as download:
        admin.click("a:has-text('Download the configuration')")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert re.fullmatch(r"hall-config-\d{4}-\d{2}-\d{2}\.json", saved.name)
    text = saved.read_text(encoding="utf-8")
    exported = json.loads(text)
    assert (exported["format"], exported["version"]) == ("hall-queue-config", 1)
    assert exported["hall"]["name"] == {"zh": "政务服务大厅", "en": "Service Hall"}
    assert exported["hall"]["opening_hours"] == {} and exported["hall"]["timezone"] is None
    assert [(s["code"], s["prefix"], s["names"]["en"], s["active"]) for s in exported["services"]] == [
        ("A", "A", "Inquiry", True),
        ("B", "B", "Transactions", True),
        ("C", "C", "Complaints", True),
        ("D", "D", "Document collection", True),
    ]
    assert [(c["name"], c["services"]) for c in exported["counters"]] == [
        ("1", ["A", "B", "C", "D"]), ("2", ["A", "B", "C", "D"]), ("3", ["A", "B"]), ("4", ["C", "D"]),
    ]  # fmt: skip
    # No staff, passwords or tokens leave the hall in it.
    assert set(exported) == {"format", "version", "exported_at", "hall", "services", "counters"}
    assert not re.search(r"clerk|supervisor|password|token|pbkdf2|scrypt", text, re.IGNORECASE)
    # The page's file is the command line's export.
    cli = json.loads(server.flask("export-config"))
    assert {**exported, "exported_at": None} == {**cli, "exported_at": None}
    # The download is in the audit log under the admin's name.
    admin.goto(server.url + "/admin/audit?action=export_config")
    exports = [row.locator("td").all_inner_texts()[1:4] for row in admin.locator("#audit tbody tr").all()]
    assert exports == [["admin", "export_config", "config"]]
    assert not admin.js_errors


def audit_rows(page) -> list[list[str]]:
    """The audit table's rows, newest first, cell by cell."""
    return [row.locator("td").all_inner_texts() for row in page.locator("#audit tbody tr").all()]


def test_a_change_appears_in_the_audit_log_and_on_the_overview(server, new_page):
    admin = new_page(1440, 1000)
    log_in(admin, server, next_path="/admin/audit")
    assert heading(admin) == "Audit log · 审计日志"
    before = audit_rows(admin)

    admin.goto(server.url + "/admin/services")
    row = service_row(admin, "D")
    row.locator("input[name=target_wait_min]").fill("12")
    row.locator("button:has-text('Save')").click()
    assert service_row(admin, "D").locator(".form-message.ok").inner_text() == "Saved. · 已保存。"
    changed_at = datetime.now(HALL_TZ)

    admin.goto(server.url + "/admin/audit")
    rows = audit_rows(admin)
    assert rows[1:] == before, "one new row, on top"
    when, who, action, target, diff = rows[0]
    # The time in the hall's timezone, to the second.
    at = datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=HALL_TZ)
    assert abs(at - changed_at) < timedelta(minutes=1), (when, changed_at)
    assert (who, action, target) == ("admin", "update_service", "service:D")
    assert diff.strip() == "target_wait_min: 10 → 12"
    newest = admin.locator("#audit tbody tr").first
    assert newest.locator(".diff .old").inner_text() == "10"
    assert newest.locator(".diff .new").inner_text() == "12"
    shot(admin, "admin-audit")

    # Filtered by its action, the change is the only row.
    admin.select_option("select[name=action]", "update_service")
    admin.click("form.filters button:has-text('Show')")
    admin.wait_for_url(re.compile(r"action=update_service"))
    assert audit_rows(admin) == [rows[0]]

    admin.goto(server.url + "/admin")
    recent = admin.locator(".recent li").all_inner_texts()
    assert recent[0] == f"{when[:16]} admin update_service service:D", recent
    assert not admin.js_errors


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
        # A function, not an expression: the page's CSP forbids eval, which an expression needs.
        "n => document.querySelector(\".service[data-service='B'] .name\").textContent === n",
        arg="Licences and permits",
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
        "() => document.querySelector(\".service[data-service='B']\").disabled === true", timeout=15000
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


def test_tokens_kiosks_a_configuration_file_and_refused_hours(server, new_page, tmp_path):
    admin = new_page(1440, 1000)
    log_in(admin, server, next_path="/admin/staff")
    card = admin.locator("form.user-form[data-username='clerk3']").locator("xpath=..")
    card.locator("button:has-text('Issue a token')").click()
    token = card.locator(".secret-value")
    token.wait_for()
    assert token.inner_text().startswith("qms_")
    assert card.locator(".token > span").inner_text() == "API token · 接口令牌: issued · 已签发"
    headers = {"Authorization": f"Bearer {token.inner_text()}"}
    assert requests.get(server.url + "/api/v1/counters", headers=headers, timeout=5).status_code == 200
    shot(admin, "admin-staff-token")

    admin.goto(server.url + "/admin/kiosks")
    assert heading(admin) == "Kiosks and rating tablets · 取号机与评价器"
    assert admin.locator("#kiosks tbody").inner_text().strip() == "No kiosk registered · 尚未登记取号机"
    admin.fill("#kiosks input[name=name]", "Entrance · 入口")
    admin.click("#kiosks button:has-text('Register')")
    link = admin.locator("#kiosks .secret-value")
    link.wait_for()
    assert "/kiosk/register/" in link.inner_text()
    devices = admin.locator("#kiosks tbody tr").all()
    assert len(devices) == 1
    assert devices[0].locator("td").nth(0).inner_text() == "Entrance · 入口"
    assert devices[0].locator("td").nth(2).inner_text() == "Active · 有效"
    shot(admin, "admin-kiosks-link")

    config = tmp_path / "hall.json"
    config.write_text(server.flask("export-config"), encoding="utf-8")
    admin.goto(server.url + "/admin/config")
    admin.set_input_files("input[name=file]", str(config))
    admin.click("button:has-text('Check only')")
    admin.locator("#import-result .form-message.ok").wait_for()
    assert "nothing was changed" in admin.locator("#import-result").inner_text()
    # The hall's own export changes nothing when imported back.
    assert admin.locator("#import-result .summary li").all_inner_texts() == [
        "Hall settings · 大厅设置: unchanged · 无变化"
    ]
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
    assert form_values(service_row(admin, "Z"))["name_en"] == "Temporary"
    service_row(admin, "Z").locator("button:has-text('Delete')").click()  # confirmed by the handler above
    admin.locator("#admin-flash:has-text('Service Z deleted')").wait_for()
    assert service_row(admin, "Z").count() == 0

    admin.goto(server.url + "/admin/hall")
    admin.uncheck("input[name=always_open]")
    admin.fill("input[name=hours_0]", "08:30-12:00, 13:30-25:00")
    admin.click("button:has-text('Save the hall settings')")
    admin.locator("#hall-form .form-message.bad").first.wait_for()
    assert admin.locator("input[name=hours_0]").input_value() == "08:30-12:00, 13:30-25:00"
    assert admin.locator("input[name=hours_0]").get_attribute("aria-invalid") == "true"
    shot(admin, "admin-hall-refused")
    # Refused: the hall is still always open.
    admin.goto(server.url + "/admin")
    assert facts(admin)["Opening hours · 开放时间"] == "always open · 全天开放"
    assert not admin.js_errors


def test_a_notice_written_on_the_hall_page_appears_on_an_open_board(server, new_page):
    board = new_page(1920, 1080)
    board.goto(server.url + "/display")
    board.locator("body[data-live='yes']").wait_for()
    assert board.locator("#notice").is_hidden()
    admin = new_page(1440, 1000)
    log_in(admin, server, next_path="/admin/hall")
    admin.fill("textarea[name=notice_zh]", "今日 16:00 停止取号")
    admin.fill("textarea[name=notice_en]", "No new tickets after 16:00")
    admin.click("button:has-text('Save the hall settings')")
    admin.locator("#hall-form .form-message.ok").first.wait_for()
    board.locator("#notice:has-text('今日 16:00 停止取号')").wait_for()  # live, no reload
    assert "No new tickets after 16:00" in board.locator("#notice").inner_text()
    shot(board, "display-notice-short")
    admin.fill("textarea[name=notice_zh]", "")
    admin.fill("textarea[name=notice_en]", "")
    admin.click("button:has-text('Save the hall settings')")
    board.locator("#notice").wait_for(state="hidden")
    assert not admin.js_errors and not board.js_errors
