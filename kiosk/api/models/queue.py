"""The queue as answers show it: services, tickets, counters and the hall board."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from kiosk.api.models.base import Answer, CounterStateName, Instant, StatusName, named
from queue_engine.core.kinds import Category


class Service(Answer):
    """A service a visitor may take a number for."""

    code: str
    prefix: str
    name: str = Field(description="in the language asked for")
    names: dict[str, str] = Field(description="per language")
    category: Annotated[Category, named(Category)]
    active: bool
    served: bool = Field(description="some active counter serves it; false: tickets are refused (409)")
    waiting: int
    estimated_wait_s: int = Field(
        description="seconds a walk-in taking a ticket now would wait: the estimate it would be issued with"
    )


class CounterRef(Answer):
    """The counter a called or served ticket goes to."""

    id: int
    name: str


class Ticket(Answer):
    """A ticket as its holder and the API see it."""

    token: str = Field(description="unguessable; the visitor's URL /t/<token>")
    number: str = Field(examples=["A012"])
    service: str
    service_name: dict[str, str]
    status: StatusName
    position: int | None = Field(description="ahead + 1 (1 = next to be called); null unless waiting")
    ahead: int | None = Field(
        description="visitors expected to be called before this one at the counters that can serve it, "
        "of every service those counters also serve (priority and booked tickets included)"
    )
    estimated_wait_s: int | None = Field(
        description="seconds until the expected call: the calls ahead played forward over the open counters"
    )
    counter: CounterRef | None = Field(description="while called or served")
    issued_at: Instant
    called_at: Instant | None
    started_at: Instant | None
    finished_at: Instant | None
    call_count: int
    priority: bool
    lang: str
    business_date: date
    transferred_from: str | None = Field(description="the service it was transferred from")
    rated: bool
    can_rate: bool


class CalledTicket(Answer):
    """The ticket a counter called."""

    ticket: Ticket


class RatingStored(Answer):
    """The rating was stored."""

    token: str
    number: str
    score: int


class Call(Answer):
    """A counter's active call on the board."""

    number: str
    service: str
    counter: str | None
    counter_id: int | None
    called_at: Instant | None
    call_count: int
    lang: str | None = Field(None, description="the visitor's language, for announcing")


class RecentCall(Answer):
    """One of the last numbers called."""

    number: str
    service: str
    counter: str | None
    counter_id: int | None
    called_at: Instant | None
    status: StatusName


class BoardService(Answer):
    """A service shown on the board."""

    code: str
    names: dict[str, str]


class CounterBoard(Answer):
    """A counter's panel on the board: the last number it called today."""

    id: int
    name: str
    state: CounterStateName
    services: list[str]
    number: str | None
    service: str | None
    called_at: Instant | None


class Display(Answer):
    """What a hall board shows."""

    hall: dict[str, str] = Field(description="the hall's name per language")
    now_serving: list[Call]
    recent: list[RecentCall]
    waiting: dict[str, int] = Field(description="waiting tickets per service code")
    services: list[BoardService]
    counters: list[CounterBoard]
    next: dict[str, str] = Field(
        description="per service code, the number it calls next (the board's 'please get ready' line)"
    )
    notice: dict[str, str] = Field(description="the notice line the admin wrote for the board, per language")
    generated_at: Instant


class HeldTicket(Answer):
    """The ticket a counter holds (no personal data)."""

    token: str
    number: str
    status: StatusName


class Counter(Answer):
    """A counter as staff see it."""

    id: int
    name: str
    state: CounterStateName
    state_since: Instant | None
    services: list[str]
    staff: str | None = Field(description="username of the clerk on duty")
    ticket: HeldTicket | None


class OpenedCounter(Counter):
    """A counter just opened, with the last shift's handover note."""

    handover_note: str = Field(description="'' when the last shift left none")
