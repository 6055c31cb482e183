"""The SMS channel: an HTTP request to the hall's gateway for each outbox row (``channel="sms"``).

The admin sets the gateway's URL, method, content type and body template; ``{phone}``,
``{message}``, ``{event}`` and ``{lang}`` are filled in, escaped for the content type (JSON
string, form field, or as is), and in the URL too (URL-quoted); ``{params}`` is the message's
values (number, counter, ahead, code, ...) as a JSON object, for a relay that has to fill a
provider's pre-approved template.  An optional header (``Authorization: Bearer {token}``) carries
``QMS_SMS_TOKEN`` from the environment, never stored in the database.  A 2xx answer is done;
anything else, a refused connection or a timeout is retried by the worker.  At send time a
number that replied STOP in the meantime, or an "N ahead" for a ticket that is no longer
waiting, is not sent (logged as skipped).
"""

from __future__ import annotations

import json
import os
import urllib.request
from urllib.parse import quote, quote_plus

from sqlalchemy.orm import Session

from queue_engine.core.kinds import TicketStatus
from queue_engine.core.models import Ticket
from queue_engine.notify.models import OutboxMessage
from queue_engine.notify.outbox import Sent, register_channel, send_request
from queue_engine.notify.visitors import is_stopped, settings_row

DEFAULT_JSON_BODY = '{"phone": "{phone}", "message": "{message}"}'
DEFAULT_FORM_BODY = "phone={phone}&message={message}"


def _escape(value: str, content_type: str) -> str:
    if "json" in content_type:
        return json.dumps(value, ensure_ascii=False)[1:-1]
    if "x-www-form-urlencoded" in content_type:
        return quote_plus(value)
    return value


def fill(template: str, fields: dict[str, str], escape: str, raw_json: str = "{}") -> str:
    """A body (or URL) template with ``{phone}``, ``{message}``, ``{event}``, ``{lang}`` put in;
    ``{params}`` is the message's values as a JSON object (as is in a JSON body)."""
    for name, value in fields.items():
        template = template.replace(
            "{" + name + "}", quote(value) if escape == "url" else _escape(value, escape)
        )
    if escape == "url":
        params = quote(raw_json)
    elif "json" in escape:
        params = raw_json
    else:
        params = _escape(raw_json, escape)
    return template.replace("{params}", params)


def gateway_request(
    url: str,
    method: str,
    content_type: str,
    body: str,
    header: str,
    phone: str,
    message: str,
    *,
    event: str = "",
    lang: str = "",
    params: dict[str, str] | None = None,
) -> urllib.request.Request:
    """The HTTP request one message makes to the gateway."""
    kind = content_type or "application/json"
    template = body or (DEFAULT_FORM_BODY if "x-www-form-urlencoded" in kind else DEFAULT_JSON_BODY)
    fields = {"phone": phone, "message": message, "event": event, "lang": lang}
    raw_json = json.dumps(params or {}, ensure_ascii=False)
    data = None if method == "GET" else fill(template, fields, kind, raw_json).encode()
    headers = {"User-Agent": "qms-sms/1"}
    if data is not None:
        headers["Content-Type"] = kind if "charset" in kind else f"{kind}; charset=utf-8"
    name, colon, value = header.partition(":")
    if colon and name.strip():
        headers[name.strip()] = value.strip().replace("{token}", os.environ.get("QMS_SMS_TOKEN", ""))
    return urllib.request.Request(
        fill(url, fields, "url", raw_json), data=data, method=method, headers=headers
    )


def _skip_reason(session: Session, message: OutboxMessage) -> str | None:
    if is_stopped(session, message.recipient or ""):
        return "skipped: the number replied STOP"
    if message.event == "ticket.near":
        ticket = session.get(Ticket, message.payload.get("ticket_id"))
        if ticket is None or ticket.status != TicketStatus.WAITING:
            return "skipped: the ticket is no longer waiting"
    return None


def send_sms(session: Session, message: OutboxMessage, timeout_s: float) -> Sent:
    """Send one text through the hall's gateway."""
    if not message.recipient:
        return Sent(ok=True, answer="skipped: the number was erased")
    skipped = _skip_reason(session, message)
    if skipped:
        return Sent(ok=True, answer=skipped)
    settings = settings_row(session)
    if not settings.sms_url.strip():
        return Sent(ok=False, error="no SMS gateway configured")
    request = gateway_request(
        settings.sms_url.strip(),
        settings.sms_method or "POST",
        settings.sms_content_type,
        settings.sms_body,
        settings.sms_header,
        message.recipient,
        str(message.payload.get("text", "")),
        event=message.event,
        lang=str(message.payload.get("lang", "")),
        params=dict(message.payload.get("params") or {}),
    )
    return send_request(request, timeout_s)


register_channel("sms", send_sms)
