"""Administration: visitor messages (/admin/notifications): the SMS gateway, quiet hours, the
"N people ahead" threshold and the message templates per language and event."""

from __future__ import annotations

import os
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from kiosk.actions import action
from kiosk.context import clock
from kiosk.extensions import db_session
from kiosk.htmx import is_htmx
from kiosk.rooms.admin.forms import REFUSED, SAVED, FormState, actor_id, answer
from kiosk.rooms.admin.setup import bp
from queue_engine.core.errors import InvalidFields
from queue_engine.notify.outbox import near_position, set_near_position
from queue_engine.notify.templates import DEFAULTS, LANGS, PLACEHOLDERS, VISITOR_EVENTS
from queue_engine.notify.visitors import (
    email_configured,
    mask_address,
    recent_visitor_messages,
    save_channel_settings,
    settings_row,
)
from queue_engine.notify.worker import send_again

EVENT_LABELS = {
    "appointment.booked": "Booking confirmed · 预约成功",
    "appointment.reminder": "Booking reminder · 预约提醒",
    "appointment.cancelled": "Booking cancelled · 预约取消",
    "appointment.missed": "Booking missed · 预约未到",
    "ticket.near": "N people ahead · 前面还有 N 人",
    "ticket.called": "Called · 叫号",
    "rating.bad": "After a bad rating · 差评回访",
}


def _stored() -> dict[str, Any]:
    session = db_session()
    row = settings_row(session)
    return {
        "sms_url": row.sms_url,
        "sms_method": row.sms_method,
        "sms_content_type": row.sms_content_type,
        "sms_body": row.sms_body,
        "sms_header": row.sms_header,
        "quiet_start": row.quiet_start,
        "quiet_end": row.quiet_end,
        "near_position": str(near_position(session)),
        "templates": {lang: dict((row.templates or {}).get(lang) or {}) for lang in LANGS},
    }


def _typed() -> dict[str, Any]:
    form = request.form
    values: dict[str, Any] = {
        name: form.get(name, "")[:2000]
        for name in ("sms_url", "sms_method", "sms_content_type", "sms_body", "sms_header", "quiet_start")
    }
    values["quiet_end"] = form.get("quiet_end", "")[:10]
    values["near_position"] = form.get("near_position", "").strip()[:4]
    values["templates"] = {
        lang: {event: form.get(f"template_{lang}_{event}", "")[:1000] for event in VISITOR_EVENTS}
        for lang in LANGS
    }
    return values


def _context() -> dict[str, Any]:
    return {
        "langs": LANGS,
        "events": [(event, EVENT_LABELS[event]) for event in VISITOR_EVENTS],
        "defaults": DEFAULTS,
        "placeholders": sorted(PLACEHOLDERS),
        "token_set": bool(os.environ.get("QMS_SMS_TOKEN")),
        "email_on": email_configured(),
        "smtp_host": os.environ.get("QMS_SMTP_HOST", ""),
    }


def _log() -> list[dict[str, Any]]:
    local = clock().local
    return [
        {
            "id": m.id,
            "event": EVENT_LABELS.get(m.event, m.event),
            "channel": m.channel,
            "to": mask_address(m.channel, m.recipient),
            "status": m.status,
            "attempts": m.attempts,
            "due": f"{local(m.due_at):%m-%d %H:%M}",
            "error": m.last_error or "",
        }
        for m in recent_visitor_messages(db_session())
    ]


def _page(state: FormState | None = None) -> str:
    return render_template(
        "admin/notifications.html",
        form=state or FormState(values=_stored(), id=1),
        log=_log(),
        **_context(),
    )


@bp.get("/notifications")
def notifications() -> Any:
    """Visitor messages: the SMS gateway, quiet hours, "N ahead" and the templates."""
    return _page()


@bp.post("/notifications")
def update_notifications() -> Any:
    """Save the visitor message settings (refused as a whole when a field is wrong)."""
    state = FormState(values=_typed(), id=1)
    with action(InvalidFields) as done:
        near = state.values["near_position"]
        if not near.isdigit() or not 1 <= int(near) <= 50:
            raise InvalidFields({"near_position": "A whole number from 1 to 50."})
        save_channel_settings(db_session(), state.values, clock().now(), actor_id())
        set_near_position(db_session(), int(near), clock().now(), actor_id())
    if done.error is not None:
        state.errors, state.message, state.ok = dict(done.error.errors), REFUSED, False
        return answer("admin/_notifications.html", state, _page, **_context())
    if not is_htmx():
        flash(SAVED)
        return redirect(url_for(".notifications"), 303)
    saved = FormState(values=_stored(), id=1, message=SAVED)
    return render_template("admin/_notifications.html", form=saved, **_context())


@bp.post("/notifications/<int:message_id>/again")
def send_message_again(message_id: int) -> Any:
    """Put one visitor message back in the queue, due now."""
    with action():
        send_again(db_session(), message_id, clock().now(), actor_id())
    return redirect(url_for(".notifications"), 303)
