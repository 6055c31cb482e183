"""The words of visitor messages: a default per language and event, which the admin may reword.

A template holds placeholders in braces: ``{hall}``, ``{number}``, ``{counter}``, ``{ahead}``,
``{service}``, ``{date}``, ``{time}``, ``{code}``, ``{due_date}``.  A placeholder the event does
not know stays empty; an unknown one is refused when the admin saves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

LANGS = ("zh", "en")
VISITOR_EVENTS = (
    "appointment.booked",
    "appointment.reminder",
    "appointment.cancelled",
    "appointment.missed",
    "ticket.near",
    "ticket.called",
    "rating.bad",
)
PLACEHOLDERS = frozenset(
    ("hall", "number", "counter", "ahead", "service", "date", "time", "code", "due_date")
)
MAX_TEMPLATE = 300

DEFAULTS: dict[str, dict[str, str]] = {
    "zh": {
        "appointment.booked": "【{hall}】预约成功：{service}，{date} {time}，预约码 {code}，请按时签到。",
        "appointment.reminder": "【{hall}】提醒：您预约的{service}在 {date} {time}，预约码 {code}。",
        "appointment.cancelled": "【{hall}】您 {date} {time} 的{service}预约已取消。",
        "appointment.missed": "【{hall}】您 {date} {time} 的{service}预约未在签到时间内到场，已记为未到。",
        "ticket.near": "【{hall}】{number} 号：前面还有 {ahead} 人，请回到大厅等候叫号。",
        "ticket.called": "【{hall}】请 {number} 号到 {counter} 号窗口办理。",
        "rating.bad": "【{hall}】很抱歉本次服务未让您满意，工作人员将在 {due_date} 前与您联系。",
    },
    "en": {
        "appointment.booked": "{hall}: booked {service}, {date} {time}, code {code}. Please be on time.",
        "appointment.reminder": "{hall}: reminder: {service} on {date} at {time}, code {code}.",
        "appointment.cancelled": "{hall}: your {service} appointment on {date} at {time} is cancelled.",
        "appointment.missed": "{hall}: your {service} appointment on {date} at {time} was missed.",
        "ticket.near": "{hall}: number {number}: {ahead} people ahead. Please come back to the hall.",
        "ticket.called": "{hall}: number {number}, please go to counter {counter}.",
        "rating.bad": "{hall}: we are sorry the service let you down; we will contact you by {due_date}.",
    },
}
# E-mail subjects (not editable: the body carries the hall's wording).
SUBJECTS: dict[str, dict[str, str]] = {
    "zh": {
        "appointment.booked": "预约成功",
        "appointment.reminder": "预约提醒",
        "appointment.cancelled": "预约已取消",
        "appointment.missed": "预约未到",
        "ticket.near": "快到您了",
        "ticket.called": "请到窗口办理",
        "rating.bad": "服务回访",
    },
    "en": {
        "appointment.booked": "Booking confirmed",
        "appointment.reminder": "Booking reminder",
        "appointment.cancelled": "Booking cancelled",
        "appointment.missed": "Booking missed",
        "ticket.near": "Almost your turn",
        "ticket.called": "Your number is called",
        "rating.bad": "About your visit",
    },
}
_FIELD = re.compile(r"\{([^{}]*)\}")


def message_lang(lang: str | None) -> str:
    """The template language for a ticket's or booking's ``lang`` ("en-US" → en; else zh)."""
    return "en" if (lang or "").lower().startswith("en") else "zh"


def template_for(saved: Mapping[str, Any] | None, lang: str, event: str) -> str:
    """The admin's wording of an event in a language, or the default."""
    chosen = ((saved or {}).get(lang) or {}).get(event)
    return chosen if isinstance(chosen, str) and chosen.strip() else DEFAULTS[lang][event]


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill a template's placeholders (unknown or missing ones become empty)."""
    return _FIELD.sub(lambda m: str(values.get(m.group(1), "") or ""), template)


def template_problem(template: str) -> str | None:
    """Why a template cannot be saved (too long, an unknown placeholder), or None."""
    if len(template) > MAX_TEMPLATE:
        return f"At most {MAX_TEMPLATE} characters."
    unknown = sorted(set(_FIELD.findall(template)) - PLACEHOLDERS)
    if unknown:
        return "Unknown placeholder(s): " + ", ".join("{" + name + "}" for name in unknown)
    return None


def subject_for(lang: str, event: str, hall: str) -> str:
    """An e-mail's subject line."""
    subject = SUBJECTS[lang][event]
    return f"{hall} · {subject}" if hall else subject
