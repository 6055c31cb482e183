"""The /api/v1 contract of bookings (DESIGN §7, §10): request bodies, queries and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from kiosk.api.models.base import Answer, Body, Instant, IsoDate, Query, Text
from queue_engine.booking.models import BookingState


def _instant(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    message = "must be an ISO 8601 time with its offset, e.g. 2026-01-05T10:00:00+08:00"
    if not isinstance(value, str):
        raise ValueError(message)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(message) from None
    if parsed.tzinfo is None:
        raise ValueError(message)
    return parsed


IsoInstant = Annotated[
    datetime, BeforeValidator(_instant), WithJsonSchema({"type": "string", "format": "date-time"})
]
BookingStatus = Annotated[
    BookingState, WithJsonSchema({"type": "string", "enum": [s.value for s in BookingState]})
]


class SlotsQuery(Query):
    """A day of slots."""

    day: IsoDate = Field(alias="date", description="YYYY-MM-DD, a day in the hall's timezone")


class Slot(Answer):
    """One slot of a service's day."""

    start: Instant
    end: Instant
    capacity: int
    booked: int
    free: int
    open: bool = Field(description="whether it can be booked now (places left, before its cut-off)")


class BookAppointment(Body):
    """Book a slot."""

    service: Annotated[Text, Field(max_length=16, description="service code, e.g. A")]
    start: IsoInstant = Field(description="the slot's start, as the slots list gives it")
    name: Annotated[Text, Field(max_length=200)]
    phone: Annotated[Text, Field(max_length=32, description="mobile number: 13812345678 or +country code")]
    lang: Text | None = Field(None, description="one of the hall's languages (QMS_LANGUAGES)")


class CheckInByCode(Body):
    """Check in with the booking code."""

    code: Annotated[Text, Field(max_length=16, description="the code on the confirmation, e.g. K7M2QX")]


class AppointmentsQuery(Query):
    """A day's bookings."""

    day: IsoDate | None = Field(None, alias="date", description="YYYY-MM-DD; default today")
    service: str | None = Field(None, description="a service code; default every service")


class TicketRef(Answer):
    """The ticket a checked-in booking got."""

    token: str
    number: str


class Appointment(Answer):
    """A booking as its holder sees it (name and phone masked)."""

    token: str = Field(description="unguessable; the visitor's page /b/<token>")
    code: str = Field(examples=["K7M2QX"])
    service: str
    service_name: dict[str, str]
    start: Instant
    end: Instant
    status: BookingStatus
    check_in_from: Instant
    check_in_until: Instant
    name: str = Field(description="masked (张**) except for supervisors and admins")
    phone: str = Field(description="masked (138****5678) except for supervisors and admins")
    lang: str
    ticket: TicketRef | None = Field(description="once checked in")
