"""Configuration from the environment (``QMS_*``), with safe defaults for the embedded set-up."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from queue_engine.core.db import sqlalchemy_url

DEFAULT_DATABASE = "sqlite:///instance/qms.sqlite3"
ASYNC_MODES = ("threading", "gevent")


def _secret_key(instance_path: Path) -> str:
    """QMS_SECRET_KEY, or one generated once into instance/ (never into the repository)."""
    if key := os.environ.get("QMS_SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def async_mode(raw: str | None) -> str:
    """``QMS_ASYNC_MODE``: Socket.IO's async mode, ``threading`` (the default) or ``gevent``."""
    mode = (raw or "threading").strip().lower()
    if mode not in ASYNC_MODES:
        raise ValueError(f"QMS_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, not {raw!r}")
    return mode


def database_url(raw: str, root: Path) -> str:
    """Normalise a database URL: relative SQLite paths are relative to the project root."""
    raw = sqlalchemy_url(raw)
    prefix = "sqlite:///"
    if raw.startswith(prefix) and not raw.startswith(prefix + "/") and ":memory:" not in raw:
        path = root / raw.removeprefix(prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    return raw


def from_environment(instance_path: Path, root: Path) -> dict[str, Any]:
    """The app's configuration as read from the environment (relative paths from ``root``)."""
    env = os.environ
    languages = [lang.strip() for lang in env.get("QMS_LANGUAGES", "zh,en").split(",") if lang.strip()]
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("QMS_DATABASE_URL", DEFAULT_DATABASE), root),
        "QMS_REDIS_URL": env.get("QMS_REDIS_URL") or None,
        "QMS_REDIS_CHANNEL": env.get("QMS_REDIS_CHANNEL", "qms"),
        # How the server holds its sockets: a thread each (gunicorn's gthread worker) or a
        # greenlet each (its gevent worker); the worker class started must match (kiosk.wsgi).
        "QMS_ASYNC_MODE": async_mode(env.get("QMS_ASYNC_MODE")),
        # Without Redis: how often the server looks for other processes' changes (0: never).
        "QMS_CHANGE_WATCH_SECONDS": float(env.get("QMS_CHANGE_WATCH_SECONDS", "1.5")),
        "QMS_RANKING_MIN_RATINGS": int(env.get("QMS_RANKING_MIN_RATINGS", "10")),
        "QMS_PROXY_COUNT": int(env.get("QMS_PROXY_COUNT", "0")),
        "QMS_SOCKETS_PER_ADDRESS": int(env.get("QMS_SOCKETS_PER_ADDRESS", "200")),
        # Screens silent this long are shown as alerts; new device names stop at the limit.
        "QMS_DEVICE_SILENT_S": int(env.get("QMS_DEVICE_SILENT_S", "60")),
        "QMS_DEVICES_MAX": int(env.get("QMS_DEVICES_MAX", "500")),
        # A board cut off from the server for longer than this reloads once it is back.
        "QMS_BOARD_RELOAD_AFTER_S": int(env.get("QMS_BOARD_RELOAD_AFTER_S", "60")),
        "QMS_TIMEZONE": env.get("QMS_TIMEZONE", "Asia/Shanghai"),
        "QMS_LANGUAGES": languages or ["zh", "en"],
        "QMS_PRINTER": env.get("QMS_PRINTER") or None,
        "QMS_PUBLIC_URL": env.get("QMS_PUBLIC_URL") or None,
        "QMS_TICKET_RATE_LIMIT": env.get("QMS_TICKET_RATE_LIMIT", "20/minute"),
        # Wrong passwords in a row before a staff account is locked for 15 minutes (0: never).
        "QMS_LOGIN_MAX_FAILURES": int(env.get("QMS_LOGIN_MAX_FAILURES", "10")),
        # Failed log-ins one client address may make, whatever the usernames it tries.
        "QMS_LOGIN_ADDRESS_LIMIT": env.get("QMS_LOGIN_ADDRESS_LIMIT", "30/minute;200/hour"),
        # Days after which a visit's and a booking's personal data is erased (0: kept).
        "QMS_PERSONAL_DATA_DAYS": int(env.get("QMS_PERSONAL_DATA_DAYS", "180")),
        "PORT": int(env.get("PORT", "5000")),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": int(env.get("QMS_SESSION_MINUTES", "30")) * 60,
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked in a before_request hook, see kiosk/auth.py
        "WTF_CSRF_TIME_LIMIT": None,
    }
