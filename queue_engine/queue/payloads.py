"""What screens and the API are sent, as types: every payload of ``snapshots`` is one of these.

No personal data ever enters them (names, contacts and descriptions stay on the visit).
"""

from __future__ import annotations

from typing import TypedDict


class ServiceEntry(TypedDict):
    """A service on the kiosk and in ``GET /api/v1/services``."""

    code: str
    prefix: str
    name: str
    names: dict[str, str]
    category: str
    active: bool
    served: bool
    waiting: int
    estimated_wait_s: int


class CounterRef(TypedDict):
    """The counter a ticket is called to."""

    id: int
    name: str


class TicketView(TypedDict):
    """A ticket as its holder and the API see it."""

    token: str
    number: str
    service: str
    service_name: dict[str, str]
    status: str
    position: int | None
    ahead: int | None
    estimated_wait_s: int | None
    counter: CounterRef | None
    issued_at: str | None
    called_at: str | None
    started_at: str | None
    finished_at: str | None
    call_count: int
    priority: bool
    lang: str | None
    business_date: str
    transferred_from: str | None
    rated: bool
    can_rate: bool


class CallEntry(TypedDict):
    """A call as boards show and announce it."""

    number: str
    service: str
    counter: str | None
    counter_id: int | None
    called_at: str | None
    call_count: int
    lang: str | None


class RecentCall(TypedDict):
    """One of the board's last calls."""

    number: str
    service: str
    counter: str | None
    counter_id: int | None
    called_at: str | None
    status: str


class BoardService(TypedDict):
    """A service as the board names it."""

    code: str
    names: dict[str, str]


class CounterBoard(TypedDict):
    """A counter's tile on the board: its state and the last number it called today."""

    id: int
    name: str
    state: str
    services: list[str]
    number: str | None
    service: str | None
    called_at: str | None


class DisplaySnapshot(TypedDict):
    """Everything a hall board shows (``GET /api/v1/display``, ``display:snapshot``)."""

    hall: dict[str, str]
    now_serving: list[CallEntry]
    recent: list[RecentCall]
    waiting: dict[str, int]
    services: list[BoardService]
    counters: list[CounterBoard]
    next: dict[str, str]
    notice: dict[str, str]
    generated_at: str | None


class WaitingPosition(TypedDict):
    """A waiting ticket's place, as a phone in the service's room follows it."""

    token: str
    number: str
    status: str
    position: int
    ahead: int
    estimated_wait_s: int


class CallNow(TypedDict):
    """A number called or being served now, and where."""

    counter: str
    number: str


class CallsUpdate(TypedDict):
    """The numbers now called at the counters serving a service (its phones' "Now called")."""

    service: str
    calls: list[CallNow]


class RatingPrompt(TypedDict):
    """The visit a counter's rating tablet asks about."""

    token: str
    number: str
    service: str


class WindowClerk(TypedDict):
    """The clerk on duty as the window's own screen names them (staff, not visitors' data)."""

    name: str
    staff_number: str


class WindowScreen(TypedDict):
    """The small screen above one window: its name, its state, the number at it, who serves."""

    counter: CounterRef
    state: str
    number: str | None
    service: str | None
    status: str | None
    clerk: WindowClerk | None
