"""The /api/v1 contract of the hall's public screens and their heartbeats (设备故障应急)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kiosk.api.models.base import Answer


class DeviceState(Answer):
    """A public screen and what its last heartbeat said."""

    id: int
    kind: Literal["kiosk", "board", "tablet", "window"]
    name: str
    address: str | None = Field(description="the screen's network address")
    first_seen: str = Field(description="ISO 8601 UTC: its first heartbeat")
    last_seen: str = Field(description="ISO 8601 UTC: its last heartbeat")
    silent_s: int = Field(description="seconds since its last heartbeat")
    silent: bool = Field(description="silent for longer than QMS_DEVICE_SILENT_S")
    sound_on: bool | None = Field(description="a board: whether its sound is unlocked; null for others")
    printer: Literal["ok", "failed", "browser", "unknown"] | None = Field(
        description="a kiosk: its thermal printer answered the last ticket (ok) or not (failed); "
        "browser printing cannot be checked; null for others"
    )
    page_version: str | None = Field(description="the version of the page it runs")
    outdated: bool = Field(description="it runs another page version than the server's")
    alert: bool = Field(description="silent, or its printer failed")
    warn: bool = Field(description="a board without sound, or an outdated page")
