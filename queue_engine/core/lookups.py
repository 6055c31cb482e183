"""Finding services, counters and tickets by the names the outside world uses."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, select
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


# The hot lookups, built once (statement building cost more than running them on SQLite).
_SERVICE_BY_CODE = select(Service).where(Service.code == bindparam("code"))
_COUNTER_BY_ID = select(Counter).where(Counter.id == bindparam("counter_id"))
_COUNTER_BY_ID_LOCKED = locked(_COUNTER_BY_ID)
_TICKET_BY_TOKEN = select(Ticket).where(Ticket.token == bindparam("token"))
_TICKET_BY_TOKEN_LOCKED = locked(_TICKET_BY_TOKEN)


def service_by_code(session: Session, code: str) -> Service:
    """The service with a code, or UnknownService."""
    service = session.scalars(_SERVICE_BY_CODE, {"code": code}).first()
    if service is None:
        raise UnknownService(f"No service has the code {code!r}.")
    return service


def counter_by_id(session: Session, counter_id: int, *, lock: bool = False) -> Counter:
    """The counter with an id (row-locked on PostgreSQL when asked), or UnknownCounter."""
    query = _COUNTER_BY_ID_LOCKED if lock else _COUNTER_BY_ID
    counter = session.scalars(query, {"counter_id": counter_id}).first()
    if counter is None or not counter.active:
        raise UnknownCounter(f"No counter has the id {counter_id}.")
    return counter


def ticket_by_token(session: Session, token: str, *, lock: bool = False) -> Ticket:
    """The ticket with a public token (row-locked on PostgreSQL when asked), or UnknownTicket."""
    query = _TICKET_BY_TOKEN_LOCKED if lock else _TICKET_BY_TOKEN
    ticket = session.scalars(query, {"token": token}).first()
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
