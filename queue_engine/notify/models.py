"""The outbox, its delivery log, webhook subscriptions and the hall's notification settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from queue_engine.core.models import Base


class WebhookSubscription(Base):
    """A URL an admin subscribed to some events, with the secret its deliveries are signed with."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(128))
    trusted_for_personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """One notification to send: written in the transaction of the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "due_at"), Index("ix_outbox_ref", "event", "ref"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # The id receivers see (same on every retry), to drop a repeat.
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    channel: Mapped[str] = mapped_column(String(20), default="webhook")
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="SET NULL")
    )
    recipient: Mapped[str | None] = mapped_column(String(200))
    # What the event is about ("ticket:12"), so a once-only event is not noted twice.
    ref: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime]
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Delivery(Base):
    """One attempt to send an outbox row: when, the answer's status and first words, or the error."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_outbox", "outbox_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))


class NotifySettings(Base):
    """The hall's notification settings (one row; none yet reads as the defaults)."""

    __tablename__ = "notify_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "N people ahead": a ticket is told once when N visitors are left before it.
    near_position: Mapped[int] = mapped_column(Integer, default=3)
    # Booking reminders go this long before the slot; NULL: QMS_REMINDER_LEAD_MIN (default 60).
    reminder_lead_min: Mapped[int | None] = mapped_column(Integer)


class SentOnce(Base):
    """A once-only event already written to the outbox (the unique guard of scheduled events).

    The primary key is what makes "once" hold across processes: a second writer's insert of the
    same (event, ref) waits for the first one's commit and then does nothing.
    """

    __tablename__ = "notify_sent_once"

    event: Mapped[str] = mapped_column(String(40), primary_key=True)
    # What it was about, e.g. "booking:12@20260105T0130" (a moved booking is reminded again).
    ref: Mapped[str] = mapped_column(String(60), primary_key=True)
    at: Mapped[datetime]


# The visitor channels' tables belong with these: whoever has the outbox's tables has theirs.
from queue_engine.notify import visitor_models as _visitor_models  # noqa: E402, F401
