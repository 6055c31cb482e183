"""The contract's building blocks: constrained text and dates, the three model kinds, the error shape."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, WithJsonSchema

from queue_engine.core.kinds import CounterState, TicketStatus

NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store NUL in text: refused at the door, not on write

Text = Annotated[str, StringConstraints(pattern=NO_NUL)]


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None
    # A hall's day runs into the next in UTC and has a day after it: the calendar's last and
    # first days have not (OverflowError in any sum of dates and times).
    if not date.min < day < date.max:
        raise ValueError(
            f"must be a date between {date.min + timedelta(days=1)} and {date.max - timedelta(days=1)}"
        )
    return day


IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]


def named(kind: type[StrEnum]) -> WithJsonSchema:
    """An enum's values written inline, so each schema reads on its own."""
    return WithJsonSchema({"type": "string", "enum": [member.value for member in kind]})


StatusName = Annotated[TicketStatus, named(TicketStatus)]
CounterStateName = Annotated[CounterState, named(CounterState)]
Instant = datetime  # ISO 8601 UTC text, e.g. 2026-01-05T01:00:00Z
Day = date  # YYYY-MM-DD; a name a field called "date" cannot shadow


class Body(BaseModel):
    """A JSON request body: exact types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    """A query string: text read leniently into values; other arguments are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Answer(BaseModel):
    """A JSON answer: every field always present, none beyond these."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Answer):
    """What went wrong: a stable code for programs, a sentence for people."""

    code: str
    message: str


class Error(Answer):
    """Every refusal under /api/v1 (DESIGN §7)."""

    error: ErrorDetail
