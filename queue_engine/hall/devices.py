"""The hall's equipment (设备故障应急): the heartbeats public screens send, and who has gone silent.

Kiosks, boards, rating tablets and window screens each report every 20 s over their Socket.IO
link what they know about themselves: a board whether its sound is unlocked, a kiosk whether
its last print answered.  ``record_heartbeat`` keeps one row per (kind, name), written with
one statement; ``devices_overview`` is what the supervisor reads.

Figures: ``silent_s`` is the time since a device's last heartbeat; a device is ``silent`` when
that exceeds the hall's threshold (default ``SILENT_AFTER_S``), and in ``alert`` when silent or
its printer failed.  ``warn`` marks a board that cannot sound or a page older than the server's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, String, UniqueConstraint, delete, exists, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from queue_engine.core.clock import Clock, iso
from queue_engine.core.models import Base, UTCDateTime
from queue_engine.hall.audit import audit

SILENT_AFTER_S = 60  # a screen reports every 20 s: three missed heartbeats mean it is gone
MAX_DEVICES = 500  # a flood of invented names stops here; the hall's own devices keep reporting
NAME_MAX = 64
VERSION_MAX = 40


class DeviceKind(StrEnum):
    """The public screens that report a heartbeat."""

    KIOSK = "kiosk"
    BOARD = "board"
    TABLET = "tablet"
    WINDOW = "window"


class PrinterState(StrEnum):
    """What a kiosk knows of its printer.

    ``ok``/``failed``: the server's thermal printer answered the last ticket or did not;
    ``browser``: the page prints through the browser, which cannot tell whether paper came out;
    ``unknown``: no ticket printed since the page loaded.
    """

    OK = "ok"
    FAILED = "failed"
    BROWSER = "browser"
    UNKNOWN = "unknown"


class Device(Base):
    """One public screen, known by its kind and name, with what its last heartbeat said."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_devices_kind_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # The screen's network address (a hall's own equipment, not a visitor's data).
    address: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    sound_on: Mapped[bool | None] = mapped_column(Boolean)
    printer: Mapped[str | None] = mapped_column(String(12))
    page_version: Mapped[str | None] = mapped_column(String(VERSION_MAX))


@dataclass(frozen=True)
class Heartbeat:
    """What one screen says about itself (already checked by ``heartbeat_of``)."""

    kind: DeviceKind
    name: str
    sound_on: bool | None = None
    printer: PrinterState | None = None
    page_version: str | None = None


class BadHeartbeat(ValueError):
    """A heartbeat that is not one (unknown kind, no name, wrong types): nothing is recorded."""


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadHeartbeat("text expected")
    value = " ".join(value.replace("\x00", "").split())
    return value[:limit] or None


def heartbeat_of(data: Any) -> Heartbeat:
    """A heartbeat from the JSON a screen sent; ``BadHeartbeat`` when it is not one."""
    if not isinstance(data, dict):
        raise BadHeartbeat("an object expected")
    try:
        kind = DeviceKind(str(data.get("kind")))
        printer = None if data.get("printer") is None else PrinterState(data["printer"])
    except ValueError:
        raise BadHeartbeat("unknown kind or printer state") from None
    name = _text(data.get("name"), NAME_MAX)
    if name is None:
        raise BadHeartbeat("a name is required")
    sound = data.get("sound")
    if sound is not None and not isinstance(sound, bool):
        raise BadHeartbeat("sound is true or false")
    return Heartbeat(kind, name, sound, printer, _text(data.get("version"), VERSION_MAX))


def record_heartbeat(
    session: Session, now: datetime, beat: Heartbeat, address: str | None, *, max_devices: int = MAX_DEVICES
) -> bool:
    """Note a screen's heartbeat: one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` statement.

    A known device is updated whatever the count; a new one is added only while fewer than
    ``max_devices`` are known (two processes adding at the same instant may pass it by one).
    Returns whether the heartbeat was recorded (False: a new name refused at the cap).
    """
    table = Base.metadata.tables["devices"]
    known = exists().where(Device.kind == beat.kind.value, Device.name == beat.name)
    under_cap = select(func.count()).select_from(table).scalar_subquery() < max_devices
    values: dict[str, ColumnElement[Any]] = {
        "kind": literal(beat.kind.value, String()),
        "name": literal(beat.name, String()),
        "address": literal(address[:64] if address else None, String()),
        "first_seen": literal(now, UTCDateTime()),
        "last_seen": literal(now, UTCDateTime()),
        "sound_on": literal(beat.sound_on, Boolean()),
        "printer": literal(beat.printer.value if beat.printer else None, String()),
        "page_version": literal(beat.page_version, String()),
    }
    row = select(*[value.label(key) for key, value in values.items()]).where(or_(known, under_cap))
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(table).from_select(list(values), row)
    reported = ("address", "last_seen", "sound_on", "printer", "page_version")
    upsert = stmt.on_conflict_do_update(
        index_elements=[table.c.kind, table.c.name],
        set_={key: stmt.excluded[key] for key in reported},
    ).returning(table.c.id)
    return session.execute(upsert).first() is not None


def devices_overview(
    session: Session, now: datetime, *, silent_after_s: int = SILENT_AFTER_S, page_version: str | None = None
) -> list[dict[str, Any]]:
    """Every known device, alerts first, then by kind and name, with its silence and state.

    ``page_version`` is the server's: a device reporting another one shows an outdated page.
    """
    rows = []
    for device in session.scalars(select(Device)):
        silent_s = max(0, int((now - device.last_seen).total_seconds()))
        silent = silent_s > silent_after_s
        printer_failed = device.printer == PrinterState.FAILED
        sound_off = device.kind == DeviceKind.BOARD and device.sound_on is False
        outdated = bool(page_version and device.page_version and device.page_version != page_version)
        rows.append(
            {
                "id": device.id,
                "kind": device.kind,
                "name": device.name,
                "address": device.address,
                "first_seen": iso(device.first_seen),
                "last_seen": iso(device.last_seen),
                "silent_s": silent_s,
                "silent": silent,
                "sound_on": device.sound_on,
                "printer": device.printer,
                "page_version": device.page_version,
                "outdated": outdated,
                "alert": silent or printer_failed,
                "warn": sound_off or outdated,
            }
        )
    rows.sort(key=lambda d: (not d["alert"], not d["warn"], d["kind"], d["name"]))
    return rows


def forget_silent_devices(session: Session, clock: Clock, user_id: int | None, silent_after_s: int) -> int:
    """Forget every device silent for longer than ``silent_after_s`` (retired, or invented by a
    flood): it leaves the list and frees its place under the cap; it comes back if it reports.

    Audited with the count forgotten; returns that count.
    """
    cutoff = clock.now() - timedelta(seconds=silent_after_s)
    forgotten = int(getattr(session.execute(delete(Device).where(Device.last_seen < cutoff)), "rowcount", 0))
    audit(session, clock, user_id, "forget_silent_devices", "devices", after={"forgotten": forgotten})
    return forgotten
