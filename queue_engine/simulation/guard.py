"""The simulator's guard: it writes history only into a hall nobody uses yet.

A hall in use holds tickets (and with them visits, ratings and complaints) that visitors and
staff made, or a counter someone is on duty at.  Simulating there would close real counters,
expire real tickets and move real complaints on, so the simulator refuses such a database and
writes nothing.  Its own tickets carry ``Ticket.simulated``; a second run over its own history
is allowed (and skips the days it made).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_engine.core.errors import QueueError
from queue_engine.core.kinds import CounterState
from queue_engine.core.models import Counter, Ticket


class HallInUse(QueueError):
    """This hall is in use; the simulator only writes history into a hall without real activity."""

    code = "hall_in_use"


def real_activity(session: Session) -> list[str]:
    """What in the database was made by people rather than the simulator (empty: safe to simulate)."""
    found: list[str] = []
    tickets = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.simulated.is_(False)))
    if tickets:
        found.append(f"{tickets} ticket(s) not made by the simulator")
    on_duty = list(
        session.scalars(select(Counter.name).where(Counter.state != CounterState.CLOSED).order_by(Counter.id))
    )
    if on_duty:
        found.append("counter(s) on duty now: " + ", ".join(on_duty))
    return found


def refuse_hall_in_use(session: Session) -> None:
    """Raise ``HallInUse`` (naming what was found) unless the hall holds no real activity."""
    found = real_activity(session)
    if found:
        raise HallInUse(
            "This database holds a hall in use (" + "; ".join(found) + "). "
            "simulate writes history only into a hall without real activity: "
            "use an empty database (for example a copy made for demonstrations)."
        )
