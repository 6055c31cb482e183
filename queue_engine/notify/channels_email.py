"""The e-mail channel: one SMTP message per outbox row (``channel="email"``).

Set by the environment: ``QMS_SMTP_HOST`` (empty: no e-mail), ``QMS_SMTP_PORT`` (25),
``QMS_SMTP_USER`` / ``QMS_SMTP_PASSWORD`` (log in when a user is set), ``QMS_SMTP_FROM`` and
``QMS_SMTP_STARTTLS`` (1: upgrade the connection with STARTTLS before logging in).  A refused
connection or an SMTP error is retried by the worker.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy.orm import Session

from queue_engine.notify.models import OutboxMessage
from queue_engine.notify.outbox import Sent, register_channel

TRUE = ("1", "true", "yes", "on")


def mail_of(message: OutboxMessage, sender: str) -> EmailMessage:
    """The e-mail an outbox row becomes (plain text, UTF-8)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient or ""
    mail["Subject"] = str(message.payload.get("subject", ""))
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(idstring=message.uid)
    mail["Content-Language"] = "zh-CN" if message.payload.get("lang") == "zh" else "en"
    mail.set_content(str(message.payload.get("text", "")))
    return mail


def send_email(_session: Session, message: OutboxMessage, timeout_s: float) -> Sent:
    """Send one e-mail through the configured SMTP server."""
    host = os.environ.get("QMS_SMTP_HOST", "").strip()
    if not host:
        return Sent(ok=False, error="no SMTP server configured (QMS_SMTP_HOST)")
    if not message.recipient:
        return Sent(ok=True, answer="skipped: the address was erased")
    port = int(os.environ.get("QMS_SMTP_PORT", "25") or 25)
    sender = os.environ.get("QMS_SMTP_FROM", "").strip() or f"qms@{host}"
    user = os.environ.get("QMS_SMTP_USER", "")
    try:
        with smtplib.SMTP(host, port, timeout=timeout_s) as smtp:
            if os.environ.get("QMS_SMTP_STARTTLS", "").strip().lower() in TRUE:
                smtp.starttls(context=ssl.create_default_context())
            if user:
                smtp.login(user, os.environ.get("QMS_SMTP_PASSWORD", ""))
            refused = smtp.send_message(mail_of(message, sender))
    except (smtplib.SMTPException, OSError) as error:
        return Sent(ok=False, error=f"{type(error).__name__}: {error}"[:500])
    if refused:
        return Sent(ok=False, error=f"refused: {refused}"[:500])
    return Sent(ok=True, status_code=250, answer="accepted")


register_channel("email", send_email)
