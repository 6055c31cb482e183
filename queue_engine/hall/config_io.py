"""The hall's configuration as one JSON file: services, counters and hall settings.

Export writes no passwords, tokens, staff or tickets, so a second hall can start from the
first one's set-up.  Import checks the whole file first (shape, every value, the clashes within
it and with the open counters) and changes nothing when any part is wrong; otherwise it makes
the hall's set-up the file's: services are matched by code, counters by name, and the ones
missing from the file are deactivated, never deleted (they may have history).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.booking.models import BookingSettings
from queue_engine.booking.settings import (
    BOOKING_DEFAULTS,
    apply_booking_settings,
    booking_record,
    clean_booking,
)
from queue_engine.core.clock import Clock, iso
from queue_engine.core.errors import InvalidInput
from queue_engine.core.events import note_settings_changed
from queue_engine.core.kinds import CounterState
from queue_engine.core.models import Counter, Service
from queue_engine.hall.admin import counter_record, hall_record, service_record
from queue_engine.hall.audit import audit
from queue_engine.hall.calendar import hall_settings
from queue_engine.hall.rules import (
    clean_counter,
    clean_hall,
    clean_service,
    counter_conflicts,
    service_conflicts,
)

FORMAT = "hall-queue-config"
VERSION = 1
HALL_KEYS = frozenset(
    (
        "name",
        "timezone",
        "languages",
        "opening_hours",
        "closed_dates",
        "extra_working_dates",
        "priority_policy",
        "priority_every_n",
        "kiosk_ticket_seconds",
        "day_close_delay_min",
        "notice",
    )
)
# Keys a file from an earlier release may lack: each reads as its default (see clean_hall).
OPTIONAL_HALL_KEYS = frozenset(("extra_working_dates", "notice"))
SERVICE_KEYS = frozenset(
    ("code", "prefix", "start_number", "names", "category", "target_wait_min", "active", "sort_order")
) | {"booking"}
# A file from before bookings has no "booking" part: the services' booking settings stay as they are.
OPTIONAL_SERVICE_KEYS = frozenset(("booking",))
COUNTER_KEYS = frozenset(("name", "services", "active"))


class ConfigInvalid(InvalidInput):
    """The configuration file is refused; ``errors`` lists every problem found, by place."""

    code = "invalid_config"

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"The configuration file has {len(errors)} problem(s); nothing was changed.")
        self.errors = errors


@dataclass
class ConfigPlan:
    """A checked configuration, in the shape the rows store."""

    hall: dict[str, Any]
    services: list[dict[str, Any]]
    counters: list[dict[str, Any]]
    # Booking settings by service code, for the services whose entry has them.
    bookings: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ImportSummary:
    """What an import did, per kind of record: code or name lists."""

    created: dict[str, list[str]] = field(default_factory=lambda: {"services": [], "counters": []})
    updated: dict[str, list[str]] = field(default_factory=lambda: {"services": [], "counters": []})
    deactivated: dict[str, list[str]] = field(default_factory=lambda: {"services": [], "counters": []})
    hall_changed: bool = False


def export_config(session: Session, clock: Clock) -> dict[str, Any]:
    """The hall's configuration as a JSON-ready dict."""
    services = session.scalars(select(Service).order_by(Service.sort_order, Service.code))
    counters = session.scalars(select(Counter).order_by(Counter.id))
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": iso(clock.now()),
        "hall": hall_record(hall_settings(session)),
        "services": [_service_entry(session, s) for s in services],
        "counters": [counter_record(c) for c in counters],
    }


def _service_entry(session: Session, service: Service) -> dict[str, Any]:
    """A service's part of the file: its set-up and, when it has any, its booking settings."""
    entry = service_record(service)
    settings = session.get(BookingSettings, service.id)
    if settings is not None:
        entry["booking"] = booking_record(settings)
    return entry


def dump_config(config: Mapping[str, Any]) -> str:
    """The configuration file's text: readable, stable, UTF-8 names left as they are."""
    return json.dumps(config, ensure_ascii=False, indent=2) + "\n"


def parse_config(text: str | bytes) -> Any:
    """A configuration file's JSON; ConfigInvalid when it is not JSON at all."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigInvalid([f"Not a JSON file: {error}. · 不是有效的 JSON 文件。"]) from None


def _keys(
    place: str,
    item: object,
    expected: frozenset[str],
    problems: list[str],
    optional: frozenset[str] = frozenset(),
) -> bool:
    if not isinstance(item, dict):
        problems.append(f"{place}: an object is expected. · 应为对象。")
        return False
    missing, unknown = sorted(expected - optional - item.keys()), sorted(item.keys() - expected)
    if missing:
        problems.append(f"{place}: missing {', '.join(missing)}. · 缺少字段。")
    if unknown:
        problems.append(f"{place}: unknown {', '.join(unknown)}. · 有未知字段。")
    return not missing and not unknown


def _report(place: str, errors: Mapping[str, str], problems: list[str]) -> None:
    problems.extend(f"{place}.{name}: {message}" for name, message in errors.items())


def check_config(data: object) -> ConfigPlan:
    """Check a whole configuration; raises ConfigInvalid listing every problem found."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigInvalid(["The file holds no configuration object. · 文件中没有配置对象。"])
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        problems.append(f"Not a {FORMAT} file of version {VERSION}. · 文件格式或版本不符。")
    hall: dict[str, Any] = {}
    if _keys("hall", data.get("hall"), HALL_KEYS, problems, OPTIONAL_HALL_KEYS):
        hall, errors = clean_hall(data["hall"])
        _report("hall", errors, problems)
    services: list[dict[str, Any]] = []
    bookings: dict[str, dict[str, Any]] = {}
    raw_services = data.get("services")
    if not isinstance(raw_services, list):
        problems.append("services: a list is expected. · 应为列表。")
        raw_services = []
    for index, raw in enumerate(raw_services):
        place = f"services[{index}]"
        if _keys(place, raw, SERVICE_KEYS, problems, OPTIONAL_SERVICE_KEYS):
            values, errors = clean_service(raw)
            errors = errors or service_conflicts(values, services)
            _report(place, errors, problems)
            services.append(values)
            booking_keys = frozenset(BOOKING_DEFAULTS)
            if raw.get("booking") is not None and _keys(
                f"{place}.booking", raw["booking"], booking_keys, problems, booking_keys
            ):
                booking, errors = clean_booking(raw["booking"])
                _report(f"{place}.booking", errors, problems)
                bookings[values["code"]] = booking
    counters: list[dict[str, Any]] = []
    raw_counters = data.get("counters")
    if not isinstance(raw_counters, list):
        problems.append("counters: a list is expected. · 应为列表。")
        raw_counters = []
    codes = [s["code"] for s in services]
    for index, raw in enumerate(raw_counters):
        place = f"counters[{index}]"
        if _keys(place, raw, COUNTER_KEYS, problems):
            values, errors = clean_counter(raw, codes)
            errors = errors or counter_conflicts(values, counters)
            _report(place, errors, problems)
            counters.append(values)
    if problems:
        raise ConfigInvalid(problems)
    return ConfigPlan(hall=hall, services=services, counters=counters, bookings=bookings)


def _comparable(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "exported_at"}


def import_config(session: Session, clock: Clock, actor_id: int | None, data: object) -> ImportSummary:
    """Make the hall's set-up the file's, or change nothing (ConfigInvalid) when any part is wrong."""
    plan = check_config(data)
    existing_counters = {c.name.casefold(): c for c in session.scalars(select(Counter))}
    kept = {values["name"].casefold() for values in plan.counters if values["active"]}
    busy = [
        f"counters: counter {c.name} is open; close it before it is deactivated. · 窗口 {c.name} 正在使用。"
        for key, c in existing_counters.items()
        if c.active and c.state != CounterState.CLOSED and key not in kept
    ]
    if busy:
        raise ConfigInvalid(busy)

    before = _comparable(export_config(session, clock))
    summary = ImportSummary()
    hall = hall_settings(session)
    summary.hall_changed = hall_record(hall) != plan.hall
    for name, value in plan.hall.items():
        setattr(hall, name, value)

    services = {s.code: s for s in session.scalars(select(Service))}
    in_file = {values["code"] for values in plan.services}
    for code, service in services.items():
        if code not in in_file and service.active:
            service.active = False
            summary.deactivated["services"].append(code)
    for values in plan.services:
        found = services.get(values["code"])
        if found is None:
            found = services[values["code"]] = Service()
            session.add(found)
            summary.created["services"].append(values["code"])
        elif service_record(found) != values:
            summary.updated["services"].append(values["code"])
        for name, value in values.items():
            setattr(found, name, value)
    session.flush()
    for code, booking in plan.bookings.items():
        if booking_record(session.get(BookingSettings, services[code].id)) != booking:
            if code not in summary.created["services"] + summary.updated["services"]:
                summary.updated["services"].append(code)
            apply_booking_settings(session, clock, services[code], booking)

    named = {values["name"].casefold() for values in plan.counters}
    for key, counter in existing_counters.items():
        if key not in named and counter.active:
            counter.active = False
            summary.deactivated["counters"].append(counter.name)
    for values in plan.counters:
        match = existing_counters.get(values["name"].casefold())
        if match is None:
            match = Counter(state=CounterState.CLOSED)
            session.add(match)
            summary.created["counters"].append(values["name"])
        elif counter_record(match) != values:
            summary.updated["counters"].append(values["name"])
        match.name = values["name"]
        match.active = values["active"]
        match.services = [services[code] for code in values["services"]]
    session.flush()

    after = _comparable(export_config(session, clock))
    audit(session, clock, actor_id, "import_config", "config", before=before, after=after)
    note_settings_changed(session)
    return summary
