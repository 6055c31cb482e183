"""The visitor's rating of a finished visit (好差评): five levels, optional dimensions, a comment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.errors import AlreadyRated, InvalidInput, InvalidTransition, RatingClosed
from queue_engine.core.events import record
from queue_engine.core.lookups import ticket_by_token
from queue_engine.core.models import Ticket, TicketStatus
from queue_engine.quality.rectification import open_case_if_bad

RATING_DAYS = 7
MAX_COMMENT = 1000


def _score(value: object, name: str, *, required: bool) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput(f"{name} must be a whole number from 1 to 5.")
    return value


def rate_visit(
    session: Session,
    clock: Clock,
    token: str,
    score: object,
    *,
    comment: str | None = None,
    efficiency: object = None,
    level: object = None,
    attitude: object = None,
    source: str = "phone",
) -> Ticket:
    """The visitor rates a finished visit, once, within RATING_DAYS of it."""
    overall = _score(score, "score", required=True)
    dimensions = {
        "rating_efficiency": _score(efficiency, "efficiency", required=False),
        "rating_level": _score(level, "level", required=False),
        "rating_attitude": _score(attitude, "attitude", required=False),
    }
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise InvalidInput(f"comment must be text of at most {MAX_COMMENT} characters.")
    ticket = ticket_by_token(session, token, lock=True)
    visit = ticket.visit
    if ticket.status != TicketStatus.DONE or visit is None:
        raise InvalidTransition("A visit can be rated once it is finished.")
    if visit.rating is not None:
        raise AlreadyRated("This visit has already been rated.")
    now = clock.now()
    if now - visit.finished_at > timedelta(days=RATING_DAYS):
        raise RatingClosed(f"A visit can be rated for {RATING_DAYS} days after it.")
    visit.rating = overall
    for field, value in dimensions.items():
        setattr(visit, field, value)
    visit.rating_comment = (comment or "").strip() or None
    visit.rated_at = now
    visit.rating_source = source[:16]
    open_case_if_bad(session, clock, visit)
    record(session, ticket, "rated", now, counter_id=visit.counter_id, score=overall, via=source)
    return ticket
