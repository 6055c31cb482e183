"""The queue engine: the hall's rules over a SQLAlchemy session, with no web framework."""

from .calling import (
    VisitRecord,
    active_ticket,
    call_next,
    call_ticket,
    finish_visit,
    mark_no_show,
    recall,
    start_service,
    transfer,
)
from .clock import Clock, FakeClock
from .counters import close_counter, open_counter, pause_counter, resume_counter
from .tickets import cancel, close_business_day, issue_ticket, rate_visit

__all__ = [
    "Clock",
    "FakeClock",
    "VisitRecord",
    "active_ticket",
    "call_next",
    "call_ticket",
    "cancel",
    "close_business_day",
    "close_counter",
    "finish_visit",
    "issue_ticket",
    "mark_no_show",
    "open_counter",
    "pause_counter",
    "rate_visit",
    "recall",
    "resume_counter",
    "start_service",
    "transfer",
]
