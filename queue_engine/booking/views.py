"""Bookings as the visitor's page, the API and staff lists show them (personal data masked)."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy.orm import Session

from queue_engine.booking.bookings import checkin_window
from queue_engine.booking.models import Booking, BookingSettings
from queue_engine.booking.slots import Slot
from queue_engine.core.clock import Clock, iso


class SlotPayload(TypedDict):
    """One slot of a day, as ``GET /api/v1/services/<code>/slots`` gives it."""

    start: str | None
    end: str | None
    capacity: int
    booked: int
    free: int
    open: bool


class TicketRef(TypedDict):
    """The ticket a checked-in booking got."""

    token: str
    number: str


class BookingPayload(TypedDict):
    """A booking as its holder and the API see it."""

    token: str
    code: str
    service: str
    service_name: dict[str, str]
    start: str | None
    end: str | None
    status: str
    check_in_from: str | None
    check_in_until: str | None
    name: str
    phone: str
    lang: str
    ticket: TicketRef | None


def mask_phone(phone: str) -> str:
    """138****5678: enough for its owner to recognise, not for anyone else to call."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) > 7 else "****"


def mask_name(name: str) -> str:
    """张** : the first character only."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def slot_payload(slot: Slot) -> SlotPayload:
    """A slot for the API and the booking page."""
    return {
        "start": iso(slot.starts_at),
        "end": iso(slot.ends_at),
        "capacity": slot.capacity,
        "booked": slot.booked,
        "free": slot.left,
        "open": slot.open and slot.left > 0,
    }


def booking_payload(
    session: Session, clock: Clock, booking: Booking, *, reveal: bool = False
) -> BookingPayload:
    """A booking; its name and phone masked unless ``reveal`` (staff who need them, audited)."""
    settings = session.get(BookingSettings, booking.service_id) or BookingSettings(
        service_id=booking.service_id
    )
    opens, closes = checkin_window(settings, booking)
    ticket = booking.ticket
    return {
        "token": booking.token,
        "code": booking.code,
        "service": booking.service.code,
        "service_name": dict(booking.service.names),
        "start": iso(booking.slot_start),
        "end": iso(booking.slot_end),
        "status": booking.state,
        "check_in_from": iso(opens),
        "check_in_until": iso(closes),
        "name": booking.name if reveal else mask_name(booking.name),
        "phone": booking.phone if reveal else mask_phone(booking.phone),
        "lang": booking.lang,
        "ticket": {"token": ticket.token, "number": ticket.number} if ticket is not None else None,
    }
