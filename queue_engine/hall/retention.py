"""Personal data kept no longer than the hall's retention period (DESIGN §13, PIPL).

After ``days`` days a visit's name, contact and description and a booking's name and phone
number (and the numbers and addresses visitors left for messages, and the names and numbers in
webhook notifications to trusted receivers) are erased; every
figure (counts, times, ratings, outcomes) stays. ``0`` keeps them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from queue_engine.booking.models import Booking
from queue_engine.core.clock import Clock
from queue_engine.core.models import Visit
from queue_engine.notify.outbox import erase_personal_payloads
from queue_engine.notify.visitors import erase_old_contacts

ERASED = ""


def erase_old_personal_data(session: Session, clock: Clock, days: int) -> int:
    """Erase the personal data older than ``days`` days; the number of records erased."""
    if days <= 0:
        return 0
    before = clock.now() - timedelta(days=days)
    visits = session.execute(
        update(Visit)
        .where(
            Visit.finished_at < before,
            or_(Visit.customer_name != ERASED, Visit.contact != ERASED, Visit.description != ERASED),
        )
        .values(customer_name=ERASED, contact=ERASED, description=ERASED)
        .execution_options(synchronize_session=False)
    )
    bookings = session.execute(
        update(Booking)
        .where(Booking.slot_end < before, or_(Booking.name != ERASED, Booking.phone != ERASED))
        .values(name=ERASED, phone=ERASED)
        .execution_options(synchronize_session=False)
    )
    contacts = erase_old_contacts(session, before) + erase_personal_payloads(session, before=before)
    return int(visits.rowcount or 0) + int(bookings.rowcount or 0) + contacts  # type: ignore[attr-defined]
