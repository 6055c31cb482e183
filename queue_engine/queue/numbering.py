"""Ticket numbers: PREFIX + three digits, per service, restarting each business day."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from queue_engine.core.models import Service, ServiceDaySequence


def format_number(prefix: str, sequence: int) -> str:
    """The printed number: ``A001`` ... ``A999``, then ``A1000`` if a day ever gets there."""
    return f"{prefix}{sequence:03d}"


def _take_next(insert_fn: Any) -> Any:
    table = ServiceDaySequence
    stmt = insert_fn(table).values(
        service_id=bindparam("service_id"),
        business_date=bindparam("day"),
        series=bindparam("series"),
        last_sequence=bindparam("start"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.service_id, table.business_date, table.series],
        set_={"last_sequence": table.last_sequence + 1},
    ).returning(table.last_sequence)


# Built once per dialect: the statement is the same for every ticket of every service.
_TAKE_NEXT = {"postgresql": _take_next(postgresql.insert), "sqlite": _take_next(sqlite.insert)}


def next_sequence(session: Session, service: Service, day: date, series: str = "") -> int:
    """Take the next sequence of a service's day in a series ("" walk-in, "Y" booked), atomically.

    One ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement: on PostgreSQL it holds
    the (service, day) row lock until commit, so concurrent issuers, in any process, queue
    behind it; on SQLite the IMMEDIATE transaction already serialises writers.
    """
    upsert = _TAKE_NEXT["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
    parameters = {"service_id": service.id, "day": day, "series": series, "start": service.start_number}
    return int(session.execute(upsert, parameters).scalar_one())
