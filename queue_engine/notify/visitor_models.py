"""What visitor messages need stored: the hall's channel settings, visitors' contacts, STOP replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from queue_engine.core.models import Base


class VisitorChannelSettings(Base):
    """The SMS gateway, quiet hours and message templates (one row; none yet reads as the defaults)."""

    __tablename__ = "visitor_channel_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The gateway: an empty URL turns SMS off.  {phone} and {message} are filled in the body
    # (and the URL), escaped for the content type; the header's {token} is QMS_SMS_TOKEN.
    sms_url: Mapped[str] = mapped_column(String(500), default="")
    sms_method: Mapped[str] = mapped_column(String(8), default="POST")
    sms_content_type: Mapped[str] = mapped_column(String(80), default="application/json")
    sms_body: Mapped[str] = mapped_column(String(2000), default="")
    sms_header: Mapped[str] = mapped_column(String(200), default="")
    # Quiet hours in the hall's local time ("22:00"-"08:00"); empty: none.
    quiet_start: Mapped[str] = mapped_column(String(5), default="")
    quiet_end: Mapped[str] = mapped_column(String(5), default="")
    # {"zh": {"ticket.near": "..."}, "en": {...}}: the admin's wording; what is missing is the default.
    templates: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class VisitorContact(Base):
    """A number (or e-mail) a visitor left for one ticket or one booking: personal data."""

    __tablename__ = "visitor_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), unique=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), unique=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    # The browser's Web Push subscription ({"endpoint", "keys": {"p256dh", "auth"}}), if allowed.
    push: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime]


class SmsStop(Base):
    """A number that replied STOP (退订, TD): it gets no more messages."""

    __tablename__ = "sms_stops"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    at: Mapped[datetime]
