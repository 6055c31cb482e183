"""Staff read refusals and stored values in Chinese first (issue 13 item 10), the English beside."""

from __future__ import annotations

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
