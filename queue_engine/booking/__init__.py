"""Appointments (预约, DESIGN §10): booking settings, slots, bookings, check-in."""

from queue_engine.booking.bookings import (
    book,
    booking_by_code,
    booking_by_token,
    cancel_booking,
    check_in,
    mark_missed,
)
from queue_engine.booking.changes import find_booking, reschedule
from queue_engine.booking.models import Booking, BookingSettings, BookingSlot, BookingState
from queue_engine.booking.slots import day_slots

__all__ = [
    "Booking",
    "BookingSettings",
    "BookingSlot",
    "BookingState",
    "book",
    "booking_by_code",
    "booking_by_token",
    "cancel_booking",
    "check_in",
    "day_slots",
    "find_booking",
    "mark_missed",
    "reschedule",
]
