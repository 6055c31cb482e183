"""The rules of the hall's set-up: what a service, a counter and the hall settings may hold.

Pure functions over plain values, shared by the admin forms and the configuration import, so
that a value refused by one is refused by the other.  Each ``clean_*`` returns the values in
their stored shape and a dict of field errors (empty when all is well); messages are
bilingual, like the staff pages that show them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from queue_engine.core.errors import InvalidInput
from queue_engine.core.kinds import Category, PriorityPolicy

# The languages the system has translations and service names for; a hall uses some of them.
KNOWN_LANGUAGES = ("zh", "en")
WEEKDAYS = tuple(str(d) for d in range(7))  # Monday = "0", as in Hall.opening_hours

CODE_RE = re.compile(r"^[A-Z0-9_-]{1,16}$")
PREFIX_RE = re.compile(r"^[A-Z]{1,4}$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

LIMITS = {
    "start_number": (1, 9000),
    "target_wait_min": (1, 480),
    "sort_order": (0, 999),
    "priority_every_n": (1, 50),
    "kiosk_ticket_seconds": (3, 120),
    "day_close_delay_min": (0, 720),
}
NAME_MAX = 64
NOTICE_MAX = 200  # characters per language of the board's notice line
COUNTER_NAME_MAX = 32
CLOSED_DATES_MAX = 400


class SettingsInvalid(InvalidInput):
    """Some values of the hall's set-up are not acceptable; ``errors`` names each field."""

    code = "invalid_settings"

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = dict(errors)


Cleaned = tuple[dict[str, Any], dict[str, str]]


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _bool(value: object) -> bool | None:
    """A checkbox or JSON boolean; None when it is neither."""
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return False
    if isinstance(value, str) and value.lower() in ("on", "true", "1", "yes"):
        return True
    if isinstance(value, str) and value.lower() in ("off", "false", "0", "no"):
        return False
    return None


def _whole(value: object, field: str, errors: dict[str, str]) -> int:
    """A whole number within the field's limits (a form's text or a JSON number)."""
    low, high = LIMITS[field]
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{1,6}\s*", value):
        number = int(value)
    if number is None or not low <= number <= high:
        errors[field] = f"A whole number from {low} to {high}. · 请填写 {low} 到 {high} 之间的整数。"
        return low
    return number


def _names(value: object, field: str, errors: dict[str, str], *, required: tuple[str, ...]) -> dict[str, str]:
    given = value if isinstance(value, Mapping) else {}
    names: dict[str, str] = {}
    for lang in KNOWN_LANGUAGES:
        text = _text(given.get(lang))
        if len(text) > NAME_MAX:
            errors[f"{field}.{lang}"] = f"At most {NAME_MAX} characters. · 最多 {NAME_MAX} 个字符。"
        elif text:
            names[lang] = text
        elif lang in required:
            errors[f"{field}.{lang}"] = "Required. · 必填。"
    if not isinstance(value, Mapping):
        errors.setdefault(field, "Names per language are required. · 请填写各语言的名称。")
    return names


def clean_service(raw: Mapping[str, Any]) -> Cleaned:
    """A service's values: code, prefix, start number, names, category, target wait, open, order."""
    errors: dict[str, str] = {}
    code = _text(raw.get("code")).upper()
    if not CODE_RE.match(code):
        errors["code"] = "1-16 capital letters, digits, - or _. · 1-16 位大写字母、数字、- 或 _。"
    prefix = _text(raw.get("prefix")).upper()
    if not PREFIX_RE.match(prefix):
        errors["prefix"] = "1-4 capital letters (A-Z). · 1-4 个大写字母。"
    category = _text(raw.get("category"))
    if category not in set(Category):
        errors["category"] = "Choose a category. · 请选择类别。"
    active = _bool(raw.get("active"))
    if active is None:
        errors["active"] = "Open or closed. · 请选择开放或暂停。"
    values = {
        "code": code,
        "prefix": prefix,
        "start_number": _whole(raw.get("start_number"), "start_number", errors),
        "names": _names(raw.get("names"), "names", errors, required=KNOWN_LANGUAGES),
        "category": category,
        "target_wait_min": _whole(raw.get("target_wait_min"), "target_wait_min", errors),
        "active": bool(active),
        "sort_order": _whole(raw.get("sort_order"), "sort_order", errors),
    }
    return values, errors


def service_conflicts(values: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """A service's clashes with the other services: codes are unique, open services' prefixes too.

    Two open services with one prefix would both print ``A001`` on the same day.
    """
    errors: dict[str, str] = {}
    for other in others:
        if other["code"] == values["code"]:
            errors["code"] = f"Service {other['code']} exists already. · 业务代码 {other['code']} 已存在。"
        if values["active"] and other["active"] and other["prefix"] == values["prefix"]:
            errors["prefix"] = (
                f"Service {other['code']} already prints {other['prefix']}001. · "
                f"业务 {other['code']} 已使用前缀 {other['prefix']}。"
            )
    return errors


def clean_counter(raw: Mapping[str, Any], service_codes: Iterable[str]) -> Cleaned:
    """A counter's values: the name on the board, the services it serves (codes), active."""
    errors: dict[str, str] = {}
    name = _text(raw.get("name"))
    if not name or len(name) > COUNTER_NAME_MAX:
        errors["name"] = f"1-{COUNTER_NAME_MAX} characters. · 1-{COUNTER_NAME_MAX} 个字符。"
    known = set(service_codes)
    given = raw.get("services")
    codes: list[str] = []
    if not isinstance(given, list | tuple) or not all(isinstance(c, str) for c in given):
        errors["services"] = "A list of service codes. · 应为业务代码列表。"
    else:
        codes = sorted({c.strip().upper() for c in given})
        unknown = [c for c in codes if c not in known]
        if unknown:
            errors["services"] = f"Unknown services: {', '.join(unknown)}. · 未知业务：{', '.join(unknown)}。"
    active = _bool(raw.get("active"))
    if active is None:
        errors["active"] = "Active or not. · 请选择是否启用。"
    if active and not codes and "services" not in errors:
        errors["services"] = "An active counter serves at least one service. · 启用的窗口至少办理一项业务。"
    return {"name": name, "services": codes, "active": bool(active)}, errors


def counter_conflicts(values: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Counter names are unique: the board calls visitors to a counter by its name."""
    for other in others:
        if other["name"].casefold() == values["name"].casefold():
            return {"name": f"Counter {other['name']} exists already. · 窗口 {other['name']} 已存在。"}
    return {}


def parse_hours_text(text: str) -> list[list[str]]:
    """A day's hours as typed, ``08:30-12:00, 13:30-17:30``, as [start, end] intervals.

    A part that is no interval comes back as ``[part, ""]``, for the validation to name it.
    """
    intervals = []
    for part in re.split(r"[,;，；\s]+", re.sub(r"\s*[-–~]\s*", "-", text.strip())):
        if part:
            bounds = part.split("-")
            intervals.append([bounds[0], bounds[1]] if len(bounds) == 2 else [part, ""])
    return intervals


def format_hours(intervals: Iterable[Iterable[str]]) -> str:
    """Intervals as the form shows them: ``08:30-12:00, 13:30-17:30``."""
    return ", ".join("-".join(pair) for pair in intervals)


def _day_hours(value: object) -> tuple[list[list[str]], str | None]:
    if not isinstance(value, list):
        return [], "A list of [start, end] times. · 应为时段列表。"
    intervals: list[list[str]] = []
    for pair in value:
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(t, str) for t in pair)):
            return [], "Each interval is [start, end]. · 每个时段应为 [开始, 结束]。"
        start, end = (t.strip() for t in pair)
        if not (HHMM_RE.match(start) and HHMM_RE.match(end)):
            return [], "Times are HH:MM, 00:00-23:59. · 时间格式为 HH:MM。"
        if start >= end:
            return [], f"{start}-{end}: the end comes after the start. · 结束时间应晚于开始时间。"
        intervals.append([start, end])
    intervals.sort()
    for (_s1, end1), (start2, _e2) in zip(intervals, intervals[1:], strict=False):
        if start2 < end1:
            return [], "Intervals overlap. · 时段重叠。"
    return intervals, None


def _opening_hours(value: object, errors: dict[str, str]) -> dict[str, list[list[str]]]:
    if not isinstance(value, Mapping):
        errors["opening_hours"] = "Weekday to intervals. · 应为星期到时段的对应。"
        return {}
    hours: dict[str, list[list[str]]] = {}
    malformed = False
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            errors["opening_hours"] = "Weekdays are 0 (Monday) to 6 (Sunday). · 星期应为 0-6。"
            malformed = True
            continue
        cleaned, problem = _day_hours(intervals)
        if problem:
            errors[f"opening_hours.{day}"] = problem
            malformed = True
        elif cleaned:
            hours[day] = cleaned
    if value and not hours and not malformed:
        errors["opening_hours"] = (
            "No day has opening hours: the hall would never open (choose 'always open' instead). · "
            "没有任何开放时段（如全天开放请选择“全天开放”）。"
        )
    return hours


def _dates(value: object, field: str, errors: dict[str, str]) -> list[str]:
    """A list of YYYY-MM-DD dates (closed dates, extra working dates), sorted, each once."""
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        errors[field] = "A list of dates. · 应为日期列表。"
        return []
    days = set()
    for text in value:
        try:
            days.add(date.fromisoformat(text.strip()).isoformat())
        except ValueError:
            errors[field] = f"{text!r} is not a date YYYY-MM-DD. · 日期格式应为 YYYY-MM-DD。"
    if len(days) > CLOSED_DATES_MAX:
        errors[field] = f"At most {CLOSED_DATES_MAX} dates. · 最多 {CLOSED_DATES_MAX} 个日期。"
    return sorted(days)


def _working_calendar(raw: Mapping[str, Any], errors: dict[str, str]) -> tuple[list[str], list[str]]:
    """Closed dates and extra working dates (调休上班; missing from older files and forms: none)."""
    closed = _dates(raw.get("closed_dates"), "closed_dates", errors)
    extra_raw = raw.get("extra_working_dates")
    extra = _dates([] if extra_raw is None else extra_raw, "extra_working_dates", errors)
    both = sorted(set(closed) & set(extra))
    if both and "extra_working_dates" not in errors:
        errors["extra_working_dates"] = (
            f"{', '.join(both)}: a date is either closed or worked, not both. · "
            "同一日期不能既闭馆又调休上班。"
        )
    return closed, extra


def _languages(value: object, errors: dict[str, str]) -> list[str] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or len(set(value)) != len(value)
        or any(lang not in KNOWN_LANGUAGES for lang in value)
    ):
        errors["languages"] = (
            f"Some of {', '.join(KNOWN_LANGUAGES)}, each once, the default first. · 语言应为 "
            f"{', '.join(KNOWN_LANGUAGES)} 中的一种或多种。"
        )
        return None
    return [str(lang) for lang in value]


def _notice(value: object, errors: dict[str, str]) -> dict[str, str]:
    """The board's notice line per language (missing from older files and forms: none)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(t, str) for t in value.values()):
        errors["notice"] = "A text per language. · 应为各语言的文字。"
        return {}
    notice: dict[str, str] = {}
    for lang in KNOWN_LANGUAGES:
        # One line on the board: line breaks typed in a text box become spaces.
        text = " ".join(_text(value.get(lang)).split())
        if len(text) > NOTICE_MAX:
            errors[f"notice.{lang}"] = f"At most {NOTICE_MAX} characters. · 最多 {NOTICE_MAX} 个字符。"
        elif text:
            notice[lang] = text
    return notice


def clean_hall(raw: Mapping[str, Any]) -> Cleaned:
    """The hall's settings: names, timezone and languages (None = the environment's), hours, policy."""
    errors: dict[str, str] = {}
    timezone = raw.get("timezone")
    if timezone is not None and (not isinstance(timezone, str) or timezone not in _timezones()):
        errors["timezone"] = "An IANA timezone such as Asia/Shanghai. · 请填写时区，如 Asia/Shanghai。"
        timezone = None
    names = _names(raw.get("name"), "name", errors, required=())
    if not names and "name" not in errors:
        errors["name"] = "Give the hall a name. · 请填写大厅名称。"
    policy = raw.get("priority_policy")
    if policy not in set(PriorityPolicy):
        errors["priority_policy"] = "Choose a priority policy. · 请选择优先规则。"
        policy = PriorityPolicy.STRICT
    closed_dates, extra_working_dates = _working_calendar(raw, errors)
    values = {
        "name": names,
        "timezone": timezone,
        "languages": _languages(raw.get("languages"), errors),
        "opening_hours": _opening_hours(raw.get("opening_hours"), errors),
        "closed_dates": closed_dates,
        "extra_working_dates": extra_working_dates,
        "priority_policy": str(policy),
        "priority_every_n": _whole(raw.get("priority_every_n"), "priority_every_n", errors),
        "kiosk_ticket_seconds": _whole(raw.get("kiosk_ticket_seconds"), "kiosk_ticket_seconds", errors),
        "day_close_delay_min": _whole(raw.get("day_close_delay_min"), "day_close_delay_min", errors),
        "notice": _notice(raw.get("notice"), errors),
    }
    return values, errors
