"""Admin: webhook subscriptions, the hall's notification settings and the delivery log (DESIGN §11).

Adding a subscription shows its signing secret once (it is never shown again); removing one
stops its deliveries and keeps its log.  The log shows the newest 200 attempts, of every
subscription or of one, and "send again" puts an attempt's outbox row back in the queue with a
fresh round of retries (``queue_engine.notify.worker.send_again``).  Each change is the same
engine function the API and the CLI call.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from kiosk.actions import action
from kiosk.context import clock
from kiosk.extensions import db, db_session
from kiosk.htmx import is_htmx
from kiosk.rooms.admin.forms import FormState, actor_id, checked
from kiosk.runtime import reminder_lead_default
from queue_engine.core.numbers import MAX_ID
from queue_engine.notify.models import WebhookSubscription
from queue_engine.notify.outbox import EVENTS, near_position, set_near_position
from queue_engine.notify.scheduled import reminder_lead_min, set_reminder_lead_min
from queue_engine.notify.webhooks import subscribe, subscriptions, unsubscribe
from queue_engine.notify.worker import recent_attempts, send_again

bp = Blueprint("webhooks", __name__)

LOG_SIZE = 200
EVENT_LABELS = {
    "ticket.issued": "Ticket issued · 取号",
    "ticket.called": "Ticket called · 叫号",
    "ticket.near": "N people ahead · 即将到号",
    "ticket.finished": "Visit finished · 办结",
    "ticket.rated": "Visit rated · 评价",
    "appointment.booked": "Booking made · 预约成功",
    "appointment.reminder": "Booking reminder · 预约提醒",
    "appointment.cancelled": "Booking cancelled · 预约取消",
    "appointment.missed": "Booking missed · 预约爽约",
    "rating.bad": "Bad rating · 差评",
    "case.overdue": "Rectification overdue · 整改超期",
}
STATUS_LABELS = {
    "pending": "Waiting to retry · 待重试",
    "sent": "Delivered · 已送达",
    "failed": "Cannot be sent · 无法发送",
    "dead": "Given up after 24 h · 已放弃",
}


def _reminder_default() -> int:
    return reminder_lead_default(current_app)


def _form(message: str | None = None, **fields: Any) -> FormState:
    state = FormState(values={"url": "", "events": [], "trusted": False}, message=message, **fields)
    state.extra = {"subscriptions": subscriptions(db_session())}
    return state


def _settings(message: str | None = None, **fields: Any) -> FormState:
    session = db_session()
    values = {
        "near_position": near_position(session),
        "reminder_lead_min": reminder_lead_min(session, _reminder_default()),
    }
    return FormState(values=values, message=message, **fields)


def _log_filter() -> int | None:
    text = request.values.get("subscription", "")
    return int(text) if text.isdecimal() and 0 < int(text) <= MAX_ID else None


def _log(message: str | None = None, ok: bool = True) -> dict[str, Any]:
    chosen = _log_filter()
    every = db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
    return {
        "rows": recent_attempts(db_session(), chosen, LOG_SIZE),
        "chosen": chosen,
        "urls": {s.id: s.url for s in every},
        "every": every,
        "message": message,
        "ok": ok,
        "size": LOG_SIZE,
        "statuses": STATUS_LABELS,
    }


def _page(
    form: FormState | None = None, settings: FormState | None = None, log: dict[str, Any] | None = None
) -> str:
    return render_template(
        "admin/webhooks.html",
        form=form or _form(),
        settings=settings or _settings(),
        log=log or _log(),
        labels=EVENT_LABELS,
    )


def _answer(partial: str, status: int = 200, **context: Any) -> Any:
    if is_htmx():
        return render_template(partial, labels=EVENT_LABELS, **context), status
    shown: FormState | None = context.get("form") or context.get("settings")
    if status == 200 and not (shown and shown.secret):
        # A plain form post that worked: back to the page (a reload does not post it again).
        log = context.get("log") or {}
        flash((shown.message if shown else log.get("message")) or "Saved. · 已保存。")
        return redirect(url_for(".webhooks_page", subscription=log.get("chosen")))
    return _page(context.get("form"), context.get("settings"), context.get("log")), status


@bp.get("/webhooks")
def webhooks_page() -> Any:
    """Subscriptions, adding one, the notification settings and the delivery log."""
    if is_htmx() and request.args.get("part") == "log":
        return render_template("admin/_deliveries.html", log=_log(), labels=EVENT_LABELS)
    return _page()


@bp.post("/webhooks")
def add_webhook() -> Any:
    """Subscribe a URL to events; its secret is shown this once."""
    url = request.form.get("url", "")[:600]
    events = [e[:40] for e in request.form.getlist("events")][: len(EVENTS) + 5]
    trusted = checked(request.form, "trusted")
    with action() as done:
        made = subscribe(
            db_session(), clock().now(), url, events, trusted_for_personal_data=trusted, actor_id=actor_id()
        )
        made_id, made_url, secret = made.id, made.url, made.secret
    if done.error:
        state = _form(done.message, ok=False)
        state.errors = {"url": done.message}
        state.values = {"url": url, "events": events, "trusted": trusted}
        return _answer("admin/_webhooks.html", 422, form=state)
    state = _form(
        f"Webhook {made_id} added: {made_url}. Give the receiver this signing secret. · "
        f"已添加 Webhook {made_id}：{made_url}，请把以下签名密钥交给接收方。"
    )
    state.secret = secret
    return _answer("admin/_webhooks.html", 200, form=state)


@bp.post("/webhooks/<int:subscription_id>/remove")
def remove_webhook(subscription_id: int) -> Any:
    """Remove a subscription (its delivery log stays)."""
    with action() as done:
        unsubscribe(db_session(), subscription_id, clock().now(), actor_id())
    if done.error:
        return _answer("admin/_webhooks.html", 404, form=_form(done.message, ok=False))
    message = f"Webhook {subscription_id} removed. · 已删除 Webhook {subscription_id}。"
    return _answer("admin/_webhooks.html", 200, form=_form(message))


@bp.post("/webhooks/settings")
def save_settings() -> Any:
    """The "N people ahead" threshold and the booking reminder's lead time."""
    values = {name: request.form.get(name, "").strip()[:8] for name in ("near_position", "reminder_lead_min")}
    errors: dict[str, str] = {}
    near = int(values["near_position"]) if values["near_position"].isdecimal() else 0
    lead = int(values["reminder_lead_min"]) if values["reminder_lead_min"].isdecimal() else 0
    if not 1 <= near <= 50:
        errors["near_position"] = "A whole number from 1 to 50. · 请填写 1 至 50 的整数。"
    if not 5 <= lead <= 10080:
        errors["reminder_lead_min"] = "A whole number of minutes from 5 to 10080. · 请填写 5 至 10080 分钟。"
    if errors:
        state = FormState(values=values, errors=errors, ok=False)
        state.message = "Not saved: please correct the marked fields. · 未保存：请修改标出的项。"
        return _answer("admin/_notify_settings.html", 422, settings=state)
    with action():
        set_near_position(db_session(), near, clock().now(), actor_id())
        set_reminder_lead_min(db_session(), lead, clock().now(), actor_id())
    return _answer("admin/_notify_settings.html", 200, settings=_settings("Saved. · 已保存。"))


@bp.post("/webhooks/deliveries/<int:message_id>/send-again")
def send_message_again(message_id: int) -> Any:
    """Put one notification back in the queue, due now (重新发送)."""
    with action() as done:
        message = send_again(db_session(), message_id, clock().now(), actor_id())
        event = message.event
    if done.error:
        return _answer("admin/_deliveries.html", 404, log=_log(done.message, ok=False))
    text = (
        f"{event} #{message_id} will be sent again within seconds. · "
        f"{event} #{message_id} 将在几秒内重新发送。"
    )
    return _answer("admin/_deliveries.html", 200, log=_log(text))
