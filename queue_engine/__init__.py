"""The queue engine: the hall's rules over a SQLAlchemy session, with no web framework."""

from queue_engine.booking import book, cancel_booking, check_in
from queue_engine.core.clock import Clock, FakeClock
from queue_engine.quality.ratings import rate_visit
from queue_engine.queue.calling import (
    active_ticket,
    call_next,
    call_ticket,
    finish_visit,
    mark_no_show,
    recall,
    start_service,
    transfer,
)
from queue_engine.queue.counters import close_counter, open_counter, pause_counter, resume_counter
from queue_engine.queue.day import close_business_day
from queue_engine.queue.priority import mark_priority
from queue_engine.queue.tickets import cancel, issue_ticket
from queue_engine.queue.visit_record import VisitRecord

__all__ = [
    "Clock",
    "FakeClock",
    "VisitRecord",
    "active_ticket",
    "book",
    "call_next",
    "call_ticket",
    "cancel",
    "cancel_booking",
    "check_in",
    "close_business_day",
    "close_counter",
    "finish_visit",
    "issue_ticket",
    "mark_no_show",
    "mark_priority",
    "open_counter",
    "pause_counter",
    "rate_visit",
    "recall",
    "resume_counter",
    "start_service",
    "transfer",
]
