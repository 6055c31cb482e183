"""Staff read refusals and stored values in Chinese first (issue 13 item 10), the English beside."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.web.staff_login import log_in


def test_a_refusal_on_the_counter_page_is_said_in_chinese_and_english(app, take_ticket):
    take_ticket("A")
    take_ticket("A")
    clerk = app.test_client()
    csrf = log_in(clerk, "clerk1")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    clerk.post("/counter/1/act/call-next", headers=headers)

    answer = clerk.post("/counter/1/act/call-next", headers=headers)  # the first one is still held

    text = answer.get_data(as_text=True)
    assert "本窗口还有正在办理的号" in text and "is still holding a ticket" in text


def test_the_not_found_page_is_in_chinese_and_english(app):
    supervisor = app.test_client()
    log_in(supervisor, "supervisor")

    missing = supervisor.get("/counter/99")

    text = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "找不到这个页面" in text and "This page does not exist" in text
    assert "The requested URL was not found" not in text


def test_complaint_statuses_and_priorities_show_in_both_languages(app, client, auth, call_next, take_ticket):
    ticket = take_ticket("C")
    call_next(1)
    client.post(
        f"/api/v1/tickets/{ticket['token']}/finish",
        json={"outcome": "resolved", "customer_name": "钱女士", "description": "慢", "department": "综合科"},
        headers=auth("clerk1"),
    )
    supervisor = app.test_client()
    log_in(supervisor, "supervisor")

    page = supervisor.get("/complaints").get_data(as_text=True)

    assert "待处理 · open" in page and "一般 · normal" in page and 'value="urgent"' in page


# -- walking the staff pages in zh-CN: no sentence in English alone --------------------------------

CJK = re.compile(r"[\u3400-\u9fff]")
# Names of people and formats, which are the same in every language.
SAME_IN_EVERY_LANGUAGE = {
    "admin",
    "supervisor",
    "clerk1",
    "clerk2",
    "clerk3",
    "clerk4",
    "CSV",
    "Excel (XLSX)",
}
STAFF_PAGES = {
    "admin": [
        "/admin",
        "/admin/services",
        "/admin/counters",
        "/admin/staff",
        "/admin/kiosks",
        "/admin/hall",
        "/admin/audit",
        "/admin/config",
    ],
    "supervisor": [
        "/supervisor",
        "/supervisor/reports",
        "/supervisor/staffing",
        "/supervisor/bookings",
        "/visits",
        "/complaints",
        "/quality",
    ],
    "clerk1": ["/counter", "/counter/1"],
}


class EnglishOnly(HTMLParser):
    """The page's visible text pieces that hold English words and no Chinese at all."""

    HIDDEN = {"script", "style", "code", "pre", "option", "textarea"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if not self.hidden and re.search(r"[A-Za-z]{3,}", text) and not CJK.search(text):
            if text not in SAME_IN_EVERY_LANGUAGE:
                self.found.append(text)


@pytest.mark.parametrize("user", sorted(STAFF_PAGES))
def test_staff_pages_in_chinese_hold_no_english_only_text(app, user):
    staff = app.test_client()
    log_in(staff, user)
    english_only = {}
    for path in STAFF_PAGES[user]:
        parser = EnglishOnly()
        parser.feed(staff.get(f"{path}?lang=zh", follow_redirects=True).get_data(as_text=True))
        if parser.found:
            english_only[path] = sorted(set(parser.found))

    assert english_only == {}
