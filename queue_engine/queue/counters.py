"""A counter's duty: open, pause, resume, close, with the handover note between shifts.

Each pause is also one ``CounterPause`` row, written here only (pause, resume, close): from it
the estimates learn when each counter usually pauses (``estimates.usual_pauses``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.errors import CounterBusy, CounterClosed, CounterInUse, CounterPaused, InvalidInput
from queue_engine.core.events import note_change
from queue_engine.core.kinds import ACTIVE_STATUSES, CounterState
from queue_engine.core.lookups import counter_by_id
from queue_engine.core.models import Counter, CounterPause, CounterSession, Ticket

MAX_HANDOVER = 4000


def current_session(session: Session, counter_id: int) -> CounterSession | None:
    """The duty stretch under way at a counter, if any."""
    return session.scalars(
        select(CounterSession)
        .where(CounterSession.counter_id == counter_id, CounterSession.closed_at.is_(None))
        .order_by(CounterSession.id.desc())
        .limit(1)
    ).first()


def last_handover(session: Session, counter_id: int) -> str:
    """The note the previous shift left at a counter ('' if none)."""
    note = session.scalars(
        select(CounterSession.handover_note)
        .where(CounterSession.counter_id == counter_id, CounterSession.closed_at.is_not(None))
        .order_by(CounterSession.closed_at.desc(), CounterSession.id.desc())
        .limit(1)
    ).first()
    return note or ""


def open_for_someone_else(counter: Counter, staff_id: int | None) -> bool:
    """Whether a counter is on duty for a member of staff other than this one."""
    return counter.state != CounterState.CLOSED and counter.staff_id not in (None, staff_id)


def _refuse_someone_elses(counter: Counter, staff_id: int | None, already: bool = False) -> None:
    if open_for_someone_else(counter, staff_id):
        raise CounterInUse(f"Counter {counter.name} is {'already ' if already else ''}open for someone else.")


def _set_state(session: Session, clock: Clock, counter: Counter, state: CounterState) -> None:
    counter.state = state
    counter.state_since = clock.now()
    note_change(session, "counter_" + state, counter_id=counter.id)


def open_counter(session: Session, clock: Clock, counter_id: int, staff_id: int | None) -> Counter:
    """Put a member of staff on duty at a counter (idempotent for the one already there)."""
    counter = counter_by_id(session, counter_id, lock=True)
    if counter.state != CounterState.CLOSED:
        _refuse_someone_elses(counter, staff_id, already=True)
        return counter
    counter.staff_id = staff_id
    session.add(CounterSession(counter_id=counter.id, staff_id=staff_id, opened_at=clock.now()))
    _set_state(session, clock, counter, CounterState.OPEN)
    return counter


def ensure_on_duty(session: Session, clock: Clock, counter: Counter, staff_id: int | None) -> None:
    """Refuse unless the counter is open for this member of staff; open it when closed."""
    if counter.state == CounterState.CLOSED:
        open_counter(session, clock, counter.id, staff_id)
    _refuse_someone_elses(counter, staff_id)
    if counter.state == CounterState.PAUSED:
        raise CounterPaused(f"Counter {counter.name} is paused; resume it first.")


def pause_counter(session: Session, clock: Clock, counter_id: int, staff_id: int | None) -> Counter:
    """Stop calling for a while (暂停服务); the visitor being served may be finished."""
    counter = counter_by_id(session, counter_id, lock=True)
    if counter.state != CounterState.OPEN:
        raise CounterClosed(f"Counter {counter.name} is not open.")
    _refuse_someone_elses(counter, staff_id)
    now = clock.now()
    duty = current_session(session, counter.id)
    if duty is not None:
        duty.paused_at = now
        duty.pause_count += 1
    session.add(_pause_from(clock, counter, now))
    _set_state(session, clock, counter, CounterState.PAUSED)
    return counter


def _pause_from(clock: Clock, counter: Counter, started: datetime) -> CounterPause:
    """The row of a pause the counter's clerk began at ``started``."""
    return CounterPause(
        counter_id=counter.id,
        staff_id=counter.staff_id,
        business_date=clock.business_date(started),
        started_at=started,
    )


def _end_pause(
    session: Session, clock: Clock, counter: Counter, duty: CounterSession | None, now: datetime
) -> None:
    """End the counter's pause under way (one paused before pauses were kept: written whole)."""
    pause = session.scalars(
        select(CounterPause)
        .where(CounterPause.counter_id == counter.id, CounterPause.ended_at.is_(None))
        .order_by(CounterPause.id.desc())
        .limit(1)
    ).first()
    if pause is None and duty is not None and duty.paused_at is not None:
        pause = _pause_from(clock, counter, duty.paused_at)
        session.add(pause)
    if pause is not None:
        pause.ended_at = now


def resume_counter(session: Session, clock: Clock, counter_id: int, staff_id: int | None) -> Counter:
    """Take calls again after a pause."""
    counter = counter_by_id(session, counter_id, lock=True)
    if counter.state != CounterState.PAUSED:
        raise CounterClosed(f"Counter {counter.name} is not paused.")
    _refuse_someone_elses(counter, staff_id)
    now = clock.now()
    duty = current_session(session, counter.id)
    _end_pause(session, clock, counter, duty, now)
    if duty is not None and duty.paused_at is not None:
        duty.paused_seconds += int((now - duty.paused_at).total_seconds())
        duty.paused_at = None
    _set_state(session, clock, counter, CounterState.OPEN)
    return counter


def close_counter(
    session: Session,
    clock: Clock,
    counter_id: int,
    staff_id: int | None,
    handover_note: str = "",
    *,
    force: bool = False,
) -> Counter:
    """End a duty stretch, leaving a note for the next shift (交接班).

    ``force`` lets a supervisor close a counter someone else left open.
    """
    if not isinstance(handover_note, str) or len(handover_note) > MAX_HANDOVER:
        raise InvalidInput(f"The handover note is at most {MAX_HANDOVER} characters.")
    counter = counter_by_id(session, counter_id, lock=True)
    if counter.state == CounterState.CLOSED:
        raise CounterClosed(f"Counter {counter.name} is already closed.")
    if not force:
        _refuse_someone_elses(counter, staff_id)
    held = session.scalars(
        select(Ticket.number).where(Ticket.counter_id == counter.id, Ticket.status.in_(ACTIVE_STATUSES))
    ).first()
    if held is not None:
        raise CounterBusy(f"Counter {counter.name} still holds ticket {held}.")
    now = clock.now()
    duty = current_session(session, counter.id)
    if counter.state == CounterState.PAUSED:
        _end_pause(session, clock, counter, duty, now)
    if duty is not None:
        if duty.paused_at is not None:
            duty.paused_seconds += int((now - duty.paused_at).total_seconds())
            duty.paused_at = None
        duty.closed_at = now
        duty.handover_note = handover_note.strip()
    counter.staff_id = None
    _set_state(session, clock, counter, CounterState.CLOSED)
    return counter
