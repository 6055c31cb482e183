"""The visitor-message rule (queue_engine.notify.visitors.visitor_rule) and the gateway's request."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest

from queue_engine.notify.channels_sms import gateway_request
from queue_engine.notify.templates import render, template_problem
from queue_engine.notify.visitors import ChannelState, is_stop_word, visitor_rule

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = ChannelState(sms_on=True, quiet_start=time(21, 0), quiet_end=time(8, 0), tz=SHANGHAI)


def local(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("event", "at", "send", "due"),
    [
        ("ticket.near", local(20, 59), True, None),
        ("ticket.near", local(21, 0), True, local(8, 0, day=6)),  # deferred to the morning
        ("ticket.near", local(2, 30), True, local(8, 0)),  # after midnight: the same morning
        ("appointment.booked", local(23, 0), True, local(8, 0, day=6)),
        ("ticket.called", local(23, 0), True, None),  # called goes at once, quiet or not
        ("appointment.cancelled", local(8, 0), True, None),  # the quiet hours are over
    ],
)
def test_quiet_hours_defer_everything_but_called(
    event: str, at: datetime, send: bool, due: datetime | None
) -> None:
    decision = visitor_rule(event, at, NIGHT)
    assert (decision.send, decision.due_at) == (send, due)


def test_a_stopped_number_gets_nothing_not_even_called() -> None:
    assert not visitor_rule("ticket.called", local(10), NIGHT, stopped=True).send
    assert not visitor_rule("ticket.near", local(10), NIGHT, stopped=True).send


@pytest.mark.parametrize(
    ("text", "stops"),
    [("STOP", True), (" 退订 ", True), ("td", True), ("T", True), ("stop please", False), ("谢谢", False)],
)
def test_stop_words(text: str, stops: bool) -> None:
    assert is_stop_word(text) is stops


def test_the_gateway_body_is_escaped_for_its_content_type() -> None:
    message = 'He said "hi" & left 前面还有 1 人'
    as_json = gateway_request("http://gw/send", "POST", "application/json", "", "", "13812345678", message)
    as_form = gateway_request(
        "http://gw/send",
        "POST",
        "application/x-www-form-urlencoded",
        "to={phone}&text={message}",
        "",
        "1",
        message,
    )
    as_get = gateway_request("http://gw/send?to={phone}&text={message}", "GET", "", "", "", "+4412", message)

    assert json.loads(as_json.data) == {"phone": "13812345678", "message": message}  # type: ignore[arg-type]
    assert parse_qs(as_form.data.decode()) == {"to": ["1"], "text": [message]}  # type: ignore[union-attr]
    assert as_get.data is None and as_get.full_url.startswith("http://gw/send?to=%2B4412&text=He%20said")


def test_a_relay_can_get_the_event_and_the_values_for_a_providers_template() -> None:
    body = '{"mobile": "{phone}", "event": "{event}", "lang": "{lang}", "params": {params}}'
    request = gateway_request(
        "http://relay/sms",
        "POST",
        "application/json",
        body,
        "",
        "13812345678",
        "text",
        event="ticket.called",
        lang="zh",
        params={"number": "A001", "counter": "3"},
    )
    assert json.loads(request.data) == {  # type: ignore[arg-type]
        "mobile": "13812345678",
        "event": "ticket.called",
        "lang": "zh",
        "params": {"number": "A001", "counter": "3"},
    }


def test_templates_fill_known_placeholders_and_refuse_unknown_ones() -> None:
    assert render("{number}: {ahead} ahead{missing}", {"number": "A001", "ahead": 3}) == "A001: 3 ahead"
    assert template_problem("{number} {name}") == "Unknown placeholder(s): {name}"
    assert template_problem("{number}") is None
