"""Bookings (预约): a service's booking settings, its slots, and the visitors' bookings.

A slot row exists once someone booked into it; it holds its capacity and counts its
bookings, and the one conditional ``UPDATE`` that takes a place in it is what keeps a slot
from ever being booked past its capacity, in any number of processes
(:func:`queue_engine.booking.bookings.book`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from queue_engine.core.models import Base, Service, Ticket


class BookingState(StrEnum):
    """Where a booking stands; nothing is ever deleted."""

    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    MISSED = "missed"


# A number holds at most one of these per service and day.
ACTIVE_BOOKING_STATES = (BookingState.BOOKED, BookingState.CHECKED_IN)


class BookingSettings(Base):
    """How a service takes bookings (DESIGN §10); a service without a row takes none."""

    __tablename__ = "booking_settings"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    bookable: Mapped[bool] = mapped_column(Boolean, default=False)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    days_ahead: Mapped[int] = mapped_column(Integer, default=7)
    # Booking a slot closes this long before it starts.
    cutoff_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # Check-in is open from this long before the slot's start to this long after it.
    checkin_before_min: Mapped[int] = mapped_column(Integer, default=30)
    checkin_after_min: Mapped[int] = mapped_column(Integer, default=15)
    # Places per slot: NULL = from the hall's history (queue_engine.booking.capacity);
    # overrides per "weekday:hour" ("0:9" = Mondays 09:00-10:00), set by the admin.
    capacity: Mapped[int | None] = mapped_column(Integer)
    capacity_overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # N missed bookings within 30 days block the number for D days; 0 turns the rule off.
    noshow_limit: Mapped[int] = mapped_column(Integer, default=3)
    noshow_block_days: Mapped[int] = mapped_column(Integer, default=30)
    # The booked tickets' number prefix; empty = "Y" + the service's prefix (YA001).
    prefix: Mapped[str] = mapped_column(String(4), default="")

    service: Mapped[Service] = relationship()


class BookingSlot(Base):
    """A slot somebody booked into, with how many places are taken."""

    __tablename__ = "booking_slots"
    __table_args__ = (UniqueConstraint("service_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    business_date: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # Fixed when the slot's first booking came (from the settings then); a change of the
    # settings sets it again for the slots still ahead.
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    """A visitor's booking of a slot: personal data (name, phone), kept like a visit's."""

    __tablename__ = "bookings"
    __table_args__ = (
        # One active booking per number, service and day, whatever the application does.
        Index(
            "ux_bookings_active_number",
            "phone",
            "service_id",
            "business_date",
            unique=True,
            sqlite_where=text("state IN ('booked', 'checked_in')"),
            postgresql_where=text("state IN ('booked', 'checked_in')"),
        ),
        Index("ix_bookings_due", "state", "slot_start"),
        Index("ix_bookings_phone", "phone", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    token: Mapped[str] = mapped_column(String(48), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("booking_slots.id"))
    business_date: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    state: Mapped[str] = mapped_column(String(16), default=BookingState.BOOKED)
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    checked_in_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    service: Mapped[Service] = relationship()
    slot: Mapped[BookingSlot] = relationship()
    ticket: Mapped[Ticket | None] = relationship()
