"""Template filters shared by the staff pages."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from kiosk.context import clock


def localtime(instant: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant in the hall's timezone, as text."""
    return clock().local(instant).strftime(fmt) if instant else ""


# The values staff meet on their pages, in both languages (the stored value stays English).
WORDS: dict[str, dict[str, str]] = {
    "counter": {"open": "开放 · open", "paused": "暂停服务 · paused", "closed": "关闭 · closed"},
    "complaint": {
        "open": "待处理 · open",
        "investigating": "调查中 · investigating",
        "resolved": "已解决 · resolved",
        "closed": "已结案 · closed",
    },
    "case": {
        "open": "待分派 · open",
        "assigned": "整改中 · assigned",
        "rectified": "已整改 · rectified",
        "followed_up": "已回访 · followed up",
        "closed": "已结案 · closed",
    },
    "priority": {
        "low": "低 · low",
        "normal": "一般 · normal",
        "high": "高 · high",
        "urgent": "紧急 · urgent",
    },
    "device": {
        "kiosk": "取号机 · kiosk",
        "board": "叫号屏 · board",
        "tablet": "评价器 · rating tablet",
        "window": "窗口屏 · window screen",
    },
    "printer": {
        "ok": "正常 · OK",
        "failed": "打印失败 · failed",
        "browser": "浏览器打印（无法检测） · browser printing (cannot be checked)",
        "unknown": "尚未打印 · nothing printed yet",
    },
}


def word(value: str | None, kind: str) -> str:
    """A stored value (a state, a status, a priority) as staff read it: "调查中 · investigating"."""
    if not value:
        return ""
    return WORDS.get(kind, {}).get(value, value)


def ago(seconds: int | None) -> str:
    """A time since, as staff read it: "2 分钟前 · 2 min ago"."""
    if seconds is None:
        return ""
    for size, zh, en in ((86400, "天", "d"), (3600, "小时", "h"), (60, "分钟", "min")):
        if seconds >= size:
            return f"{seconds // size} {zh}前 · {seconds // size} {en} ago"
    return f"{seconds} 秒前 · {seconds} s ago"


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(word, "word")
    app.add_template_filter(ago, "ago")
