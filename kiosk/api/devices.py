"""The hall's public screens and their last heartbeat, for supervisors (设备故障应急)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from kiosk.api import bp
from kiosk.api.models.devices import DeviceState
from kiosk.api.operations import api_route
from kiosk.auth import MANAGER_ROLES
from kiosk.heartbeats import device_context


@bp.get("/devices")
@api_route(roles=MANAGER_ROLES, answers={200: list[DeviceState]})
def devices() -> Any:
    """Every kiosk, board, rating tablet and window screen that reported, alerts first.

    A device is `silent` when its last heartbeat is older than `QMS_DEVICE_SILENT_S` (60 s).
    """
    return jsonify(device_context()["devices"])
