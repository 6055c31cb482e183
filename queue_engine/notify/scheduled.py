"""Events no change causes, only the passing of time: booking reminders and overdue cases.

The outbox worker calls ``due_scheduled`` each round.  It writes, through the outbox, for each
webhook subscription that wants it:

- ``appointment.reminder``: a booking still ``booked`` whose slot starts within the lead time
  (the hall's ``notify_settings.reminder_lead_min``, else ``QMS_REMINDER_LEAD_MIN``, default
  60 minutes) and has not started yet.  A booking made inside that window gets none (its
  confirmation is minutes old); a booking moved to another slot is reminded of the new one.
- ``case.overdue``: a rectification case past its due date and not yet rectified
  (``queue_engine.quality.rectification.is_overdue``), once.

"Once" holds across processes through ``notify_sent_once``: the first writer's row of
(event, ref) makes a second writer's ``INSERT ... ON CONFLICT DO NOTHING`` wait for its commit
and then insert nothing, so the second writes no outbox rows.  The look for due work reads
without the write lock (on SQLite a deferred transaction), so an idle round delays no request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session

from queue_engine.booking.models import Booking, BookingState
from queue_engine.core.clock import Clock
from queue_engine.core.db import read_only
from queue_engine.core.models import RectificationCase, Visit
from queue_engine.notify.models import NotifySettings, SentOnce
from queue_engine.notify.outbox import (
    _active_subscriptions,
    _booking_data,
    _fan_out,
    _Noted,
    _ticket_data,
    _visit_personal,
    audit_settings,
    claim_once,
)
from queue_engine.notify.visitors import channel_state, visitor_messages_for
from queue_engine.quality.rectification import is_overdue

REMINDER = "appointment.reminder"
OVERDUE = "case.overdue"
DEFAULT_REMINDER_LEAD_MIN = 60
# Open cases, so that the scan stays one short query however old the overdue ones are.
OPEN_CASE_STATES = ("open", "assigned")
BATCH = 200


def reminder_lead_min(session: Session, default: int = DEFAULT_REMINDER_LEAD_MIN) -> int:
    """Minutes before a slot its reminder goes: the hall's setting, else ``default``."""
    value = session.scalar(select(NotifySettings.reminder_lead_min).order_by(NotifySettings.id).limit(1))
    return default if value is None else int(value)


def set_reminder_lead_min(session: Session, minutes: int | None, now: datetime, actor_id: int | None) -> None:
    """Set the hall's reminder lead time (None: back to the environment's); audited when it changes."""
    if minutes is not None and not 5 <= minutes <= 7 * 24 * 60:
        raise ValueError("reminder_lead_min must be 5..10080 minutes")
    row = session.scalars(select(NotifySettings).order_by(NotifySettings.id).limit(1)).first()
    before = None if row is None else row.reminder_lead_min
    if row is None:
        session.add(NotifySettings(near_position=3, reminder_lead_min=minutes))
    else:
        row.reminder_lead_min = minutes
    if minutes != before:
        audit_settings(session, now, actor_id, "reminder_lead_min", before, minutes)


def reminder_ref(booking: Booking) -> str:
    """The guard's ref of a booking's reminder: the booking and the slot it is for."""
    return f"booking:{booking.id}@{booking.slot_start.astimezone(UTC):%Y%m%dT%H%M}"


def _not_sent(event_name: str, ref: Any) -> Any:
    guard = select(SentOnce.ref).where(SentOnce.event == event_name, SentOnce.ref == ref)
    return ~guard.exists()


def _reminders_due(session: Session, now: datetime, lead: timedelta) -> Sequence[Booking]:
    # The same text as reminder_ref (minutes of the slot's start), built by the database.
    stamp = _slot_stamp(session)
    ref = literal("booking:") + cast(Booking.id, String) + literal("@") + stamp
    return session.scalars(
        select(Booking)
        .where(
            Booking.state == BookingState.BOOKED,
            Booking.slot_start > now,
            Booking.slot_start <= now + lead,
            _not_sent(REMINDER, ref),
        )
        .order_by(Booking.slot_start, Booking.id)
        .limit(BATCH)
    ).all()


def _slot_stamp(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Booking.slot_start, 'YYYYMMDD"T"HH24MI')
    return func.strftime("%Y%m%dT%H%M", Booking.slot_start)


def _cases_overdue(session: Session, clock: Clock) -> list[RectificationCase]:
    today = clock.today()
    ref = literal("case:") + cast(RectificationCase.id, String)
    found = session.scalars(
        select(RectificationCase)
        .where(
            RectificationCase.status.in_(OPEN_CASE_STATES),
            RectificationCase.due_date < today,
            _not_sent(OVERDUE, ref),
        )
        .order_by(RectificationCase.due_date, RectificationCase.id)
        .limit(BATCH)
    ).all()
    return [case for case in found if is_overdue(case, today)]


def _wanted(session: Session) -> set[str]:
    wanted = {
        name
        for subscription in _active_subscriptions(session)
        for name in subscription.events or []
        if name in (REMINDER, OVERDUE)
    }
    if channel_state(session).any_on:
        wanted.add(REMINDER)  # the visitors' own reminder (SMS, e-mail, push)
    return wanted


def _look(session: Session, clock: Clock, wanted: set[str], lead: timedelta) -> bool:
    now = clock.now()
    if REMINDER in wanted and _reminders_due(session, now, lead):
        return True
    return OVERDUE in wanted and bool(_cases_overdue(session, clock))


def due_scheduled(
    session: Session, clock: Clock, *, default_lead_min: int = DEFAULT_REMINDER_LEAD_MIN
) -> int:
    """Write the reminders and overdue notices that are due, each once; the number of events (commits)."""
    session.rollback()
    with read_only():
        wanted = _wanted(session)
        due = bool(wanted) and _look(
            session, clock, wanted, timedelta(minutes=reminder_lead_min(session, default_lead_min))
        )
        session.rollback()  # end the read: the writing below takes the write lock
    if not due:
        return 0
    now = clock.now()
    subscriptions = _active_subscriptions(session)
    lead = timedelta(minutes=reminder_lead_min(session, default_lead_min))
    items: list[_Noted] = []
    with session.no_autoflush:
        if REMINDER in wanted:
            for booking in _reminders_due(session, now, lead):
                # Booked inside the window: the confirmation is minutes old.  The guard is still
                # written, so that the scan does not find this booking again.
                late = booking.created_at >= booking.slot_start - lead
                if claim_once(session, REMINDER, reminder_ref(booking), now) and not late:
                    data, personal = _booking_data(session, booking)
                    data["lead_minutes"] = int(lead.total_seconds() // 60)
                    items.append(_Noted(REMINDER, now, data, personal, f"booking:{booking.id}"))
                    visitor_messages_for(session, REMINDER, now, booking=booking)
        if OVERDUE in wanted:
            for case in _cases_overdue(session, clock):
                if claim_once(session, OVERDUE, f"case:{case.id}", now):
                    items.append(_overdue_item(session, case, now))
    if not items:
        session.commit()  # the guards of bookings made inside the window
        return 0
    wanting = [s for s in subscriptions if {i.event for i in items}.intersection(s.events or [])]
    _fan_out(session, items, wanting)
    session.commit()
    return len(items)


def _overdue_item(session: Session, case: RectificationCase, now: datetime) -> _Noted:
    visit = session.get(Visit, case.visit_id)
    data: dict[str, Any] = {
        "case_id": case.id,
        "status": case.status,
        "due_date": case.due_date.isoformat(),
        "assignee_id": case.assignee_id,
    }
    if visit is not None:
        data["score"] = visit.rating
        if visit.ticket is not None:
            data.update(_ticket_data(visit.ticket))
    return _Noted(OVERDUE, now, data, _visit_personal(visit), f"case:{case.id}")
