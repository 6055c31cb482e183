"""Finding services, counters and tickets by the names the outside world uses."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from queue_engine.core.errors import UnknownCounter, UnknownService, UnknownTablet, UnknownTicket
from queue_engine.core.models import Counter, RatingTablet, Service, Ticket

_Query = TypeVar("_Query", bound=Select[Any])


def locked(query: _Query, *, skip_locked: bool = False) -> _Query:
    """The query as SELECT ... FOR UPDATE, its rows overwriting what the session already holds.

    The engine decides on the rows it locks; a session kept across transactions (with
    expire_on_commit off) would otherwise hand back the values it read before, not the
    locked ones, and e.g. mark a no-show on a ticket another counter had already finished.
    """
    return query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)


def service_by_code(session: Session, code: str) -> Service:
    """The service with a code, or UnknownService."""
    service = session.scalars(select(Service).where(Service.code == code)).first()
    if service is None:
        raise UnknownService(f"No service has the code {code!r}.")
    return service


def counter_by_id(session: Session, counter_id: int, *, lock: bool = False) -> Counter:
    """The counter with an id (row-locked on PostgreSQL when asked), or UnknownCounter."""
    query = select(Counter).where(Counter.id == counter_id)
    counter = session.scalars(locked(query) if lock else query).first()
    if counter is None or not counter.active:
        raise UnknownCounter(f"No counter has the id {counter_id}.")
    return counter


def ticket_by_token(session: Session, token: str, *, lock: bool = False) -> Ticket:
    """The ticket with a public token (row-locked on PostgreSQL when asked), or UnknownTicket."""
    query = select(Ticket).where(Ticket.token == token)
    ticket = session.scalars(locked(query) if lock else query).first()
    if ticket is None:
        raise UnknownTicket("No ticket has this token.")
    return ticket


def tablet_by_digest(session: Session, token_digest: str) -> RatingTablet:
    """The active rating tablet whose token has this digest, or UnknownTablet."""
    tablet = session.scalars(
        select(RatingTablet).where(RatingTablet.token_hash == token_digest, RatingTablet.active.is_(True))
    ).first()
    if tablet is None or not tablet.counter.active:
        raise UnknownTablet("This rating tablet is not registered (or was revoked).")
    return tablet
