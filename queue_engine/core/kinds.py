"""The queue's kinds: the statuses, states and choices the tables store as strings (DESIGN §3)."""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    """Where a ticket is in its life (DESIGN §3)."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


ACTIVE_STATUSES = (TicketStatus.CALLED, TicketStatus.SERVING)
OPEN_STATUSES = (TicketStatus.WAITING, *ACTIVE_STATUSES)


class CounterState(StrEnum):
    """Whether a counter is serving."""

    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class Role(StrEnum):
    """What a member of staff may do."""

    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Category(StrEnum):
    """The kind of business a service handles."""

    INQUIRY = "inquiry"
    TRANSACTION = "transaction"
    COMPLAINT = "complaint"
    OTHER = "other"


class Outcome(StrEnum):
    """How a visit ended."""

    RESOLVED = "resolved"
    REFERRED = "referred"
    FOLLOW_UP = "follow_up"


class Source(StrEnum):
    """Where a ticket was taken."""

    KIOSK = "kiosk"
    WEB = "web"
    API = "api"
    APPOINTMENT = "appointment"


class PriorityPolicy(StrEnum):
    """How priority tickets (elderly, disabled, ...) are ordered against the others."""

    STRICT = "strict"  # first come, first served; the flag is ignored
    PRIORITY_FIRST = "priority_first"
    EVERY_N = "every_n"  # one priority ticket after every N others
