"""A visitor's booking from start to end: book, cancel, check in (a ticket), missed.

The rules (DESIGN §10) each live here once: a slot is never booked past its capacity (one
conditional UPDATE of its row, which the database serialises in any number of processes); one
active booking per phone number, service and day (checked, and guarded by a unique index); a
number that missed too many bookings waits before booking again; check-in only inside the
slot's window, and the ticket it gives queues from the slot's start.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from queue_engine.booking.capacity import slot_capacity
from queue_engine.booking.models import (
    ACTIVE_BOOKING_STATES,
    Booking,
    BookingSettings,
    BookingSlot,
    BookingState,
)
from queue_engine.booking.slots import booking_settings, is_open_for_booking, slot_starts
from queue_engine.core.clock import Clock
from queue_engine.core.errors import (
    AlreadyBooked,
    AlreadyCheckedIn,
    BookingBlocked,
    BookingClosed,
    InvalidFields,
    InvalidTransition,
    ServiceClosed,
    SlotFull,
    TooEarly,
    TooLate,
    UnknownBooking,
)
from queue_engine.core.kinds import Source
from queue_engine.core.lookups import locked, service_by_code
from queue_engine.core.models import Service, Ticket
from queue_engine.hall.calendar import hall_settings
from queue_engine.queue.tickets import enqueue

# Letters and digits that cannot be mistaken for one another (no 0/O, no 1/I).
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6
NAME_MAX = 64
NOSHOW_WINDOW_DAYS = 30
_CN_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_INTERNATIONAL = re.compile(r"\+[1-9]\d{7,14}")


def normalise_phone(value: str) -> str:
    """A phone number as stored: 11 digits for a mainland number (+86 dropped), else +E.164."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    mainland = _CN_MOBILE.fullmatch(digits)
    if mainland:
        return mainland.group(1)
    if _INTERNATIONAL.fullmatch(digits) and not digits.startswith("+86"):
        return digits
    raise InvalidFields({"phone": "Give a phone number: 11 digits (13812345678) or +country code."})


def _visitor_name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise InvalidFields({"name": "Give the name the booking is for."})
    if len(name) > NAME_MAX:
        raise InvalidFields({"name": f"A name has at most {NAME_MAX} characters."})
    return name


def new_code(session: Session) -> str:
    """A booking code nobody holds: six unambiguous letters and digits."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalars(select(Booking.id).where(Booking.code == code)).first() is None:
            return code


def blocked_until(session: Session, clock: Clock, settings: BookingSettings, phone: str) -> datetime | None:
    """Until when a number may not book (N missed bookings within 30 days), or None."""
    if settings.noshow_limit <= 0:
        return None
    since = clock.now() - timedelta(days=NOSHOW_WINDOW_DAYS)
    misses = session.scalars(
        select(Booking.missed_at)
        .where(Booking.phone == phone, Booking.state == BookingState.MISSED, Booking.missed_at >= since)
        .order_by(Booking.missed_at.desc())
    ).all()
    if len(misses) < settings.noshow_limit or misses[0] is None:
        return None
    until = misses[0] + timedelta(days=settings.noshow_block_days)
    return until if until > clock.now() else None


def give_back_place(session: Session, slot_id: int) -> None:
    """Free one place of a slot (a booking cancelled or moved away from it)."""
    session.execute(
        update(BookingSlot)
        .where(BookingSlot.id == slot_id, BookingSlot.booked > 0)
        .values(booked=BookingSlot.booked - 1)
        .execution_options(synchronize_session="fetch")
    )


def slot_row(
    session: Session, clock: Clock, settings: BookingSettings, start: datetime, end: datetime
) -> BookingSlot:
    """The slot's row, made on its first booking with the capacity the settings give now."""
    query = select(BookingSlot).where(
        BookingSlot.service_id == settings.service_id, BookingSlot.starts_at == start
    )
    row = session.scalars(query).first()
    if row is not None:
        return row
    insert_fn = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert_fn(BookingSlot)
        .values(
            service_id=settings.service_id,
            business_date=clock.business_date(start),
            starts_at=start,
            ends_at=end,
            capacity=slot_capacity(session, clock, settings, start),
            booked=0,
        )
        .on_conflict_do_nothing(index_elements=[BookingSlot.service_id, BookingSlot.starts_at])
    )
    return session.scalars(query).one()


def take_place(session: Session, slot: BookingSlot) -> None:
    """Take one place of a slot, or SlotFull: the database decides, one booking at a time."""
    taken = session.execute(
        update(BookingSlot)
        .where(BookingSlot.id == slot.id, BookingSlot.booked < BookingSlot.capacity)
        .values(booked=BookingSlot.booked + 1)
        .execution_options(synchronize_session="fetch")
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise SlotFull("Every place of this slot is taken; choose another time.")


def find_slot(
    session: Session, clock: Clock, settings: BookingSettings, starts_at: datetime
) -> tuple[datetime, datetime]:
    """The slot of the service starting at that instant, open for booking now, or BookingClosed."""
    start = starts_at.astimezone(UTC)
    day = clock.business_date(start)
    slot = next((s for s in slot_starts(hall_settings(session), settings, clock, day) if s[0] == start), None)
    if slot is None:
        raise BookingClosed("No slot of this service starts at that time.")
    if not is_open_for_booking(settings, clock, start):
        raise BookingClosed("This slot cannot be booked now: it is past its cut-off or too far ahead.")
    return slot


def book(
    session: Session,
    clock: Clock,
    service_code: str,
    starts_at: datetime,
    *,
    name: str,
    phone: str,
    lang: str = "zh",
) -> Booking:
    """Book a place in a slot for a visitor (name and phone number)."""
    service = service_by_code(session, service_code)
    settings = booking_settings(session, service)
    name, phone = _visitor_name(name), normalise_phone(phone)
    start, end = find_slot(session, clock, settings, starts_at)
    day = clock.business_date(start)
    until = blocked_until(session, clock, settings, phone)
    if until is not None:
        raise BookingBlocked(
            f"This number missed {settings.noshow_limit} bookings within {NOSHOW_WINDOW_DAYS} days; "
            f"it can book again from {clock.local(until).date().isoformat()}.",
            until=clock.local(until).date(),
        )
    if active_booking(session, phone, service.id, day) is not None:
        raise AlreadyBooked("This number already holds a booking for this service on that day.")
    slot = slot_row(session, clock, settings, start, end)
    take_place(session, slot)
    booking = Booking(
        code=new_code(session),
        token=secrets.token_urlsafe(16),
        service_id=service.id,
        slot_id=slot.id,
        business_date=day,
        slot_start=start,
        slot_end=end,
        name=name,
        phone=phone,
        lang=lang,
        state=BookingState.BOOKED,
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(booking)
    except IntegrityError as error:  # a racing twin with the same number took the day first
        raise AlreadyBooked("This number already holds a booking for this service on that day.") from error
    return booking


def active_booking(session: Session, phone: str, service_id: int, day: date) -> Booking | None:
    return session.scalars(
        select(Booking).where(
            Booking.phone == phone,
            Booking.service_id == service_id,
            Booking.business_date == day,
            Booking.state.in_(ACTIVE_BOOKING_STATES),
        )
    ).first()


def booking_by_token(session: Session, token: str, *, lock: bool = False) -> Booking:
    """The booking with a page token (row-locked on PostgreSQL when asked), or UnknownBooking."""
    query = select(Booking).where(Booking.token == token)
    booking = session.scalars(locked(query) if lock else query).first()
    if booking is None:
        raise UnknownBooking("No booking has this link.")
    return booking


def booking_by_code(session: Session, code: str, *, lock: bool = False) -> Booking:
    """The booking with a code as typed or scanned (case, spaces and dashes do not matter)."""
    typed = re.sub(r"[\s\-]", "", code or "").upper()
    query = select(Booking).where(Booking.code == typed)
    booking = session.scalars(locked(query) if lock else query).first()
    if booking is None:
        raise UnknownBooking("No booking has this code; check the code on the confirmation.")
    return booking


def scanned_booking(session: Session, typed: str) -> Booking:
    """The booking a kiosk was given: its code typed, or its page's URL read from its QR code."""
    if "/b/" in typed:
        token = typed.rsplit("/b/", 1)[1].split("?")[0].split("#")[0].strip()
        return booking_by_token(session, token, lock=True)
    return booking_by_code(session, typed, lock=True)


def cancel_booking(
    session: Session,
    clock: Clock,
    booking: Booking,
    *,
    reason: str | None = None,
    staff_id: int | None = None,
) -> Booking:
    """Cancel a booking not yet checked in; its place is freed.

    The visitor may until the slot starts; staff (``staff_id``) at any time before check-in,
    giving a reason.
    """
    if booking.state != BookingState.BOOKED:
        raise InvalidTransition(f"Only a booking not yet checked in can be cancelled; it is {booking.state}.")
    if staff_id is None and clock.now() >= booking.slot_start:
        raise InvalidTransition("The slot has begun: the booking can no longer be cancelled here.")
    if staff_id is not None and not (reason or "").strip():
        raise InvalidFields({"reason": "Give the reason the booking is cancelled."})
    booking.state = BookingState.CANCELLED
    booking.cancelled_at = clock.now()
    booking.cancel_reason = (reason or "").strip()[:200] or None
    give_back_place(session, booking.slot_id)
    return booking


def checkin_window(settings: BookingSettings, booking: Booking) -> tuple[datetime, datetime]:
    """When check-in opens and closes for a booking (UTC)."""
    return (
        booking.slot_start - timedelta(minutes=max(settings.checkin_before_min, 0)),
        booking.slot_start + timedelta(minutes=max(settings.checkin_after_min, 0)),
    )


def booked_prefix(settings: BookingSettings, service: Service) -> str:
    """The number prefix of a service's booked tickets (default "Y" + its prefix: YA001)."""
    return settings.prefix or f"Y{service.prefix}"


def check_in(session: Session, clock: Clock, booking: Booking, *, lang: str | None = None) -> Ticket:
    """Check a booking in: its ticket, which queues from the slot's start (not from now)."""
    if booking.state == BookingState.CHECKED_IN:
        raise AlreadyCheckedIn(
            f"This booking is checked in already: ticket {booking.ticket.number if booking.ticket else ''}.",
            ticket=booking.ticket,
        )
    if booking.state != BookingState.BOOKED:
        raise InvalidTransition(f"This booking is {booking.state}; it cannot be checked in.")
    service = booking.service
    if not service.active:
        raise ServiceClosed(f"Service {service.code} is not taking visitors now.")
    settings = session.get(BookingSettings, service.id) or BookingSettings(service_id=service.id)
    opens, closes = checkin_window(settings, booking)
    now = clock.now()
    if now < opens:
        raise TooEarly(
            f"Check-in opens at {clock.local(opens):%H:%M}; please come back then.", at=clock.local(opens)
        )
    if now > closes:
        raise TooLate(
            f"Check-in closed at {clock.local(closes):%H:%M}; the booking is missed.", at=clock.local(closes)
        )
    ticket = enqueue(
        session,
        clock,
        service,
        lang=lang or booking.lang,
        source=Source.APPOINTMENT,
        series="Y",
        prefix=booked_prefix(settings, service),
        queued_at=booking.slot_start,
    )
    booking.state = BookingState.CHECKED_IN
    booking.checked_in_at = now
    booking.ticket_id = ticket.id
    booking.ticket = ticket
    return ticket


def mark_missed(session: Session, clock: Clock) -> int:
    """Mark every booking whose check-in window has ended without a check-in as missed."""
    now = clock.now()
    overdue = session.scalars(
        locked(select(Booking).where(Booking.state == BookingState.BOOKED, Booking.slot_start < now))
    ).all()
    settings = {s.service_id: s for s in session.scalars(select(BookingSettings))}
    missed = 0
    for booking in overdue:
        rules = settings.get(booking.service_id) or BookingSettings(service_id=booking.service_id)
        if now > checkin_window(rules, booking)[1]:
            booking.state = BookingState.MISSED
            booking.missed_at = now
            missed += 1
    return missed


def bookings_of_day(session: Session, day: date, service_id: int | None = None) -> list[Booking]:
    """A day's bookings in slot order (staff views)."""
    query = select(Booking).where(Booking.business_date == day).order_by(Booking.slot_start, Booking.id)
    if service_id is not None:
        query = query.where(Booking.service_id == service_id)
    return list(session.scalars(query))
