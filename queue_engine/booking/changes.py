"""What a visitor does with a booking after making it: find it again, move it to another time."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy.orm import Session

from queue_engine.booking.bookings import (
    active_booking,
    booking_by_code,
    find_slot,
    give_back_place,
    normalise_phone,
    slot_row,
    take_place,
)
from queue_engine.booking.models import Booking, BookingState
from queue_engine.booking.slots import booking_settings
from queue_engine.core.clock import Clock
from queue_engine.core.errors import AlreadyBooked, InvalidTransition, QueueError, UnknownBooking


def find_booking(session: Session, phone: str, code: str) -> Booking:
    """A booking found again with its phone number and code (one answer for any mismatch)."""
    refusal = UnknownBooking("No booking has this code and phone number; check both on the confirmation.")
    try:
        booking = booking_by_code(session, code)
        typed = normalise_phone(phone)
    except QueueError:
        raise refusal from None
    if not hmac.compare_digest(booking.phone, typed):
        raise refusal
    return booking


def reschedule(session: Session, clock: Clock, booking: Booking, starts_at: datetime) -> Booking:
    """Move a booking not yet checked in to another slot of its service: a place there, the old one freed.

    The same rules as a new booking (a slot on the grid, before its cut-off, within the days
    ahead, a free place, one active booking per phone, service and day); its code and link stay.
    """
    if booking.state != BookingState.BOOKED:
        raise InvalidTransition(f"Only a booking not yet checked in can be moved; it is {booking.state}.")
    settings = booking_settings(session, booking.service)
    start, end = find_slot(session, clock, settings, starts_at)
    if start == booking.slot_start:
        return booking
    day = clock.business_date(start)
    other = active_booking(session, booking.phone, booking.service_id, day)
    if other is not None and other.id != booking.id:
        raise AlreadyBooked("This number already holds a booking for this service on that day.")
    slot = slot_row(session, clock, settings, start, end)
    take_place(session, slot)
    give_back_place(session, booking.slot_id)
    booking.slot_id, booking.slot, booking.business_date = slot.id, slot, day
    booking.slot_start, booking.slot_end = start, end
    return booking
