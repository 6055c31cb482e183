"""One person's personal data on request (PIPL: access and erasure).

A supervisor finds a person by phone number, contact or name in the visit records and the
bookings, exports what is held about them, or erases it; like the retention rule
(``hall/retention.py``) the erasure blanks the name, contact and description and keeps every
figure (counts, times, ratings, outcomes). Both are audited, with the ids touched, never the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from queue_engine.booking.models import Booking
from queue_engine.core.clock import Clock
from queue_engine.core.errors import InvalidInput
from queue_engine.core.models import Visit
from queue_engine.hall.audit import audit
from queue_engine.hall.retention import ERASED
from queue_engine.notify.outbox import erase_personal_payloads
from queue_engine.notify.visitor_models import VisitorContact
from queue_engine.notify.visitors import erase_contacts_of

MIN_QUERY = 2
LIMIT = 500
VISIT_FIELDS = ("id", "finished_at", "outcome", "customer_name", "contact", "description", "notes")
BOOKING_FIELDS = ("id", "code", "business_date", "slot_start", "state", "name", "phone")


@dataclass
class PersonsData:
    """The visit records and bookings that name one person."""

    query: str
    visits: list[Visit]
    bookings: list[Booking]
    # Numbers and addresses left for visitor messages (queue_engine.notify.visitors).
    contacts: list[VisitorContact] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """Everything held, one row per record (kind, id, when, name, contact, details)."""
        out: list[dict[str, Any]] = []
        for v in self.visits:
            out.append(
                {
                    "kind": "visit",
                    "id": v.id,
                    "when": v.finished_at.isoformat(),
                    "name": v.customer_name,
                    "contact": v.contact,
                    "details": v.description,
                    "outcome": v.outcome,
                }
            )
        for b in self.bookings:
            out.append(
                {
                    "kind": "booking",
                    "id": b.id,
                    "when": b.slot_start.isoformat(),
                    "name": b.name,
                    "contact": b.phone,
                    "details": b.code,
                    "outcome": b.state,
                }
            )
        for c in self.contacts:
            out.append(
                {
                    "kind": "message_contact",
                    "id": c.id,
                    "when": c.created_at.isoformat(),
                    "name": "",
                    "contact": c.phone or c.email,
                    "details": f"ticket {c.ticket_id}" if c.ticket_id else f"booking {c.booking_id}",
                    "outcome": "",
                }
            )
        return out


def find_person(session: Session, query: str) -> PersonsData:
    """The records whose name, contact or phone is exactly ``query`` (at least two characters)."""
    query = query.strip()
    if len(query) < MIN_QUERY:
        raise InvalidInput(f"Give a phone number, contact or name of at least {MIN_QUERY} characters.")
    visits = session.scalars(
        select(Visit)
        .where(or_(Visit.contact == query, Visit.customer_name == query))
        .order_by(Visit.finished_at.desc())
        .limit(LIMIT)
    ).all()
    bookings = session.scalars(
        select(Booking)
        .where(or_(Booking.phone == query, Booking.name == query))
        .order_by(Booking.slot_start.desc())
        .limit(LIMIT)
    ).all()
    contacts = session.scalars(
        select(VisitorContact)
        .where(or_(VisitorContact.phone == query, VisitorContact.email == query))
        .order_by(VisitorContact.created_at.desc())
        .limit(LIMIT)
    ).all()
    return PersonsData(query, list(visits), list(bookings), list(contacts))


def _ids(found: PersonsData) -> dict[str, Any]:
    return {
        "visit_ids": [v.id for v in found.visits],
        "booking_ids": [b.id for b in found.bookings],
        "contact_ids": [c.id for c in found.contacts],
    }


def export_person(session: Session, clock: Clock, user_id: int, query: str) -> PersonsData:
    """One person's data for export; the read (unmasked) is audited."""
    found = find_person(session, query)
    audit(session, clock, user_id, "personal_data.export", f"records:{len(found.rows())}", after=_ids(found))
    return found


def erase_person(session: Session, clock: Clock, user_id: int, query: str) -> int:
    """Erase one person's name, contact and description everywhere, keeping the figures; audited."""
    found = find_person(session, query)
    for v in found.visits:
        v.customer_name = v.contact = v.description = ERASED
    for b in found.bookings:
        b.name = b.phone = ERASED
    contacts = erase_contacts_of(session, found.query)  # numbers left for texts, and their messages
    contacts += erase_personal_payloads(session, value=found.query)  # and in webhook notifications
    count = len(found.visits) + len(found.bookings) + contacts
    audit(session, clock, user_id, "personal_data.erase", f"records:{count}", after=_ids(found))
    return count
