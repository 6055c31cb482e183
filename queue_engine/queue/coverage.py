"""Which services are served: a service that no active counter serves is not offered.

A number taken for such a service would never be called (nobody is set up to call it), so
issuing and transferring refuse it (``service_not_served``), the kiosk shows it greyed without
an estimate, the admin's services page warns and the supervisor's live view raises an alert.
A counter that is closed or paused for a while still serves its services: being served is a
matter of the hall's set-up, not of who is on duty this minute.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine.core.errors import ServiceNotServed
from queue_engine.core.kinds import ACTIVE_STATUSES
from queue_engine.core.models import Counter, Service, Ticket, counter_services

_SERVED = (
    select(counter_services.c.service_id)
    .join(Counter, Counter.id == counter_services.c.counter_id)
    .where(Counter.active.is_(True))
    .distinct()
)


def served_service_ids(session: Session) -> set[int]:
    """The ids of the services at least one active counter serves (the one rule)."""
    return set(session.scalars(_SERVED))


def unserved_services(session: Session) -> list[Service]:
    """The open services no active counter serves, in kiosk order."""
    served = served_service_ids(session)
    query = select(Service).where(Service.active.is_(True)).order_by(Service.sort_order, Service.code)
    return [s for s in session.scalars(query) if s.id not in served]


def refuse_unserved(session: Session, service: Service) -> None:
    """Raise ``ServiceNotServed`` when no active counter serves ``service``."""
    if service.id not in served_service_ids(session):
        raise ServiceNotServed(
            f"暂无窗口办理{service.code}业务 · No counter serves service {service.code} now; "
            "please ask at the desk."
        )


def calls_now(session: Session, service_id: int) -> list[tuple[str, str]]:
    """(counter name, number) of the tickets called or being served now at the active counters
    that serve a service: what a visitor waiting for it watches the board for."""
    serving = (
        select(counter_services.c.counter_id)
        .join(Counter, Counter.id == counter_services.c.counter_id)
        .where(counter_services.c.service_id == service_id, Counter.active.is_(True))
    )
    query = (
        select(Counter.name, Ticket.number)
        .join(Ticket, Ticket.counter_id == Counter.id)
        .where(Counter.id.in_(serving), Ticket.status.in_(ACTIVE_STATUSES))
        .order_by(Counter.id)
    )
    return [(name, number) for name, number in session.execute(query)]
