"""A service's booking settings as the admin sets them (DESIGN §10): checked, saved, audited.

``clean_booking`` is the one set of rules for what the settings may hold, shared by the admin
form and the configuration file; ``save_booking_settings`` is the one way they change: it
refuses nonsense field by field (``SettingsInvalid``), writes the audit row, and gives the
slots still ahead the capacity the new settings give them (a slot row keeps the capacity its
first booking saw until then).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.booking.capacity import HourCapacity, capacity_for, default_capacity
from queue_engine.booking.models import BookingSettings, BookingSlot
from queue_engine.core.clock import Clock
from queue_engine.core.events import note_settings_changed
from queue_engine.core.models import Service
from queue_engine.core.numbers import whole_number
from queue_engine.hall.admin import service_by_id
from queue_engine.hall.audit import audit
from queue_engine.hall.rules import SettingsInvalid

BOOKING_LIMITS = {
    "slot_minutes": (5, 240),
    "capacity": (0, 500),
    "days_ahead": (0, 90),
    "cutoff_minutes": (0, 1440),
    "checkin_before_min": (0, 240),
    "checkin_after_min": (0, 240),
    "noshow_limit": (0, 20),
    "noshow_block_days": (0, 365),
}
# What a service that never had booking settings starts from (the model's defaults).
BOOKING_DEFAULTS: dict[str, Any] = {
    "bookable": False,
    "slot_minutes": 30,
    "capacity": None,
    "capacity_overrides": {},
    "days_ahead": 7,
    "cutoff_minutes": 30,
    "checkin_before_min": 30,
    "checkin_after_min": 15,
    "noshow_limit": 3,
    "noshow_block_days": 30,
    "prefix": "",
}
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_NAMES_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_PREFIX = re.compile(r"^[A-Z]{1,4}$")
_OVERRIDE = re.compile(r"^\s*(\S+)\s+(\d{1,2})(?::00)?\s*=\s*(\d{1,4})\s*$")
_OVERRIDE_HELP = (
    "One per line: weekday, hour = places (Mon 09 = 3). · 每行一项：星期 时 = 名额（周一 09 = 3）。"
)


def booking_record(settings: BookingSettings | None) -> dict[str, Any]:
    """A service's booking settings as plain values (audit rows, the configuration file)."""
    if settings is None:
        return dict(BOOKING_DEFAULTS)
    record = {key: getattr(settings, key) for key in BOOKING_DEFAULTS}
    for key, value in record.items():
        if value is None and key != "capacity":  # a row not flushed yet: the model's defaults
            record[key] = BOOKING_DEFAULTS[key]
    record["bookable"] = bool(record["bookable"])
    record["capacity_overrides"] = dict(sorted(record["capacity_overrides"].items(), key=_slot_key))
    return record


def _slot_key(item: tuple[str, Any]) -> tuple[int, int]:
    weekday, hour = item[0].split(":")
    return int(weekday), int(hour)


def format_overrides(overrides: Mapping[str, Any]) -> str:
    """The overrides as the admin form shows them: ``Mon 09 = 3``, one per line."""
    return "\n".join(
        f"{WEEKDAY_NAMES[int(key.split(':')[0])]} {int(key.split(':')[1]):02d} = {value}"
        for key, value in sorted(overrides.items(), key=_slot_key)
    )


def _weekday(word: str) -> int | None:
    for names in (WEEKDAY_NAMES, WEEKDAY_NAMES_ZH):
        for index, name in enumerate(names):
            if word.casefold() == name.casefold():
                return index
    return whole_number(word, limit=6)


def _overrides(value: object, errors: dict[str, str]) -> dict[str, int]:
    """Overrides from the form's text (``Mon 09 = 3``) or the file's object (``{"0:9": 3}``)."""
    pairs: list[tuple[str, str, object]] = []
    if isinstance(value, Mapping):
        for key, places in value.items():
            day_text, _, hour_text = str(key).partition(":")
            pairs.append((day_text, hour_text, places))
    elif isinstance(value, str):
        for line in re.split(r"[\n;,]+", value):
            if not line.strip():
                continue
            match = _OVERRIDE.match(line)
            if match is None:
                errors["capacity_overrides"] = f"“{line.strip()}”: {_OVERRIDE_HELP}"
                return {}
            pairs.append((match[1], match[2], int(match[3])))
    elif value is not None:
        errors["capacity_overrides"] = _OVERRIDE_HELP
        return {}
    cleaned: dict[str, int] = {}
    low, high = BOOKING_LIMITS["capacity"]
    for day_text, hour_text, places in pairs:
        weekday = _weekday(day_text.strip())
        hour = whole_number(hour_text, limit=23)
        hour = -1 if hour is None else hour
        good = isinstance(places, int) and not isinstance(places, bool) and low <= places <= high
        if weekday is None or not 0 <= hour <= 23 or not good:
            errors["capacity_overrides"] = (
                f"{day_text} {hour_text} = {places}: a weekday, an hour 0-23 and {low}-{high} places. · "
                f"星期、0-23 时、{low}-{high} 个名额。"
            )
            return {}
        cleaned[f"{weekday}:{hour}"] = int(places)  # type: ignore[call-overload]
    return cleaned


def _whole(raw: Mapping[str, Any], field: str, errors: dict[str, str], *, empty: bool = False) -> int | None:
    """A whole number within the field's limits (the form's text or the file's number); None = empty."""
    value = raw.get(field, BOOKING_DEFAULTS[field])
    if empty and (value is None or (isinstance(value, str) and not value.strip())):
        return None
    if isinstance(value, str):
        value = int(value) if re.fullmatch(r"\s*\d{1,6}\s*", value) else None
    low, high = BOOKING_LIMITS[field]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        errors[field] = f"A whole number from {low} to {high}. · 请填写 {low} 到 {high} 之间的整数。"
        return None
    return value


def clean_booking(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Booking settings in their stored shape, and the errors by field (empty when all is well)."""
    errors: dict[str, str] = {}
    bookable = raw.get("bookable", False)
    if isinstance(bookable, str):
        bookable = bookable.lower() in ("on", "true", "1", "yes")
    if not isinstance(bookable, bool):
        errors["bookable"] = "Bookable or not. · 请选择是否开放预约。"
    prefix = (raw.get("prefix") or "").strip().upper() if isinstance(raw.get("prefix") or "", str) else None
    if prefix is None or (prefix and not _PREFIX.match(prefix)):
        errors["prefix"] = (
            "Empty (Y + the service's prefix) or 1-4 capital letters. · 留空（Y+业务前缀）或 1-4 个大写字母。"
        )
    values: dict[str, Any] = {
        "bookable": bool(bookable),
        "capacity": _whole(raw, "capacity", errors, empty=True),
        "capacity_overrides": _overrides(raw.get("capacity_overrides"), errors),
        "prefix": prefix or "",
    }
    for field in [name for name in BOOKING_LIMITS if name != "capacity"]:
        values[field] = _whole(raw, field, errors)
    if not errors and values["noshow_limit"] > 0 and values["noshow_block_days"] == 0:
        errors["noshow_block_days"] = (
            "At least 1 day while the no-show rule is on (0 missed bookings turns it off). · "
            "启用爽约规则时至少 1 天（爽约次数填 0 为关闭）。"
        )
    if not errors and values["checkin_before_min"] + values["checkin_after_min"] == 0:
        errors["checkin_after_min"] = "The check-in window cannot be empty. · 签到时段不能为空。"
    return values, errors


def _prefix_clash(session: Session, service: Service, prefix: str) -> dict[str, str]:
    """A booked prefix equal to an open service's prefix would print the same numbers twice."""
    effective = prefix or f"Y{service.prefix}"
    taken = session.scalars(select(Service.code).where(Service.prefix == effective, Service.active.is_(True)))
    clash = taken.first()
    if clash is None:
        return {}
    return {
        "prefix": f"Service {clash} prints {effective} numbers already. · 业务 {clash} 已用前缀 {effective}。"
    }


def refresh_slots_ahead(session: Session, clock: Clock, settings: BookingSettings) -> int:
    """Give the booked slots still ahead the capacity the settings give now; how many changed."""
    rows = session.scalars(
        select(BookingSlot).where(
            BookingSlot.service_id == settings.service_id, BookingSlot.starts_at > clock.now()
        )
    ).all()
    defaults: dict[int, list[HourCapacity]] = {}
    changed = 0
    for row in rows:
        local = clock.local(row.starts_at)
        if settings.capacity is None and local.weekday() not in defaults:
            defaults[local.weekday()] = default_capacity(session, clock, settings, local.weekday())
        capacity = capacity_for(settings, defaults.get(local.weekday()), local)
        if row.capacity != capacity:
            row.capacity = capacity
            changed += 1
    return changed


def apply_booking_settings(
    session: Session, clock: Clock, service: Service, values: Mapping[str, Any]
) -> BookingSettings:
    """Store checked booking settings on a service and refresh its slots ahead (no audit)."""
    settings = session.get(BookingSettings, service.id)
    if settings is None:
        settings = BookingSettings(service_id=service.id)
        session.add(settings)
    for field, value in values.items():
        setattr(settings, field, value)
    session.flush()
    refresh_slots_ahead(session, clock, settings)
    return settings


def save_booking_settings(
    session: Session, clock: Clock, actor_id: int | None, service_id: int, raw: Mapping[str, Any]
) -> BookingSettings:
    """Change a service's booking settings; raises SettingsInvalid naming the fields refused."""
    service = service_by_id(session, service_id)
    values, errors = clean_booking(raw)
    if not errors:
        errors = _prefix_clash(session, service, values["prefix"])
    if errors:
        raise SettingsInvalid(errors)
    before = booking_record(session.get(BookingSettings, service.id))
    settings = apply_booking_settings(session, clock, service, values)
    after = booking_record(settings)
    if before != after:
        audit(
            session,
            clock,
            actor_id,
            "update_booking_settings",
            f"service:{service.code}",
            before=before,
            after=after,
        )
        note_settings_changed(session)
    return settings
