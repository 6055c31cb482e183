"""The visitor's rating of a finished visit (好差评): five levels, optional dimensions, a comment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.errors import (
    AlreadyRated,
    InvalidFields,
    InvalidTransition,
    NothingToRate,
    RatingClosed,
)
from queue_engine.core.events import record
from queue_engine.core.kinds import TicketStatus
from queue_engine.core.lookups import ticket_by_token
from queue_engine.core.models import Ticket
from queue_engine.quality.rectification import open_case_if_bad
from queue_engine.queue.snapshots import awaiting_rating

RATING_DAYS = 7
MAX_COMMENT = 1000
DIMENSIONS = ("efficiency", "level", "attitude")
RATING_FIELDS = ("score", *DIMENSIONS, "comment")

CHOOSE_A_FACE = "Choose one of the five faces (1 to 5). / 请选择一个满意度（1 到 5）。"
COMMENT_TOO_LONG = f"The comment is at most {MAX_COMMENT} characters. / 评价内容最多 {MAX_COMMENT} 个字。"


@dataclass(frozen=True)
class Rating:
    """A visitor's rating as the hall keeps it: the overall score, optional dimensions, a comment."""

    score: int
    efficiency: int | None = None
    level: int | None = None
    attitude: int | None = None
    comment: str | None = None

    @classmethod
    def parse(cls, values: Mapping[str, Any], *, text: bool = False) -> Rating:
        """A rating from raw values; InvalidFields names every field refused.

        ``text``: the values come from an HTML form (digits as text, "" for nothing chosen);
        otherwise scores must be whole numbers, as JSON sends them.
        """
        errors: dict[str, str] = {}
        scores: dict[str, int | None] = {}
        for name in ("score", *DIMENSIONS):
            raw = values.get(name)
            if text and isinstance(raw, str):
                raw = int(raw) if raw.strip() in ("1", "2", "3", "4", "5") else (raw.strip() or None)
            if raw is None and name != "score":
                scores[name] = None
            elif isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 5:
                errors[name] = CHOOSE_A_FACE
            else:
                scores[name] = raw
        comment = values.get("comment")
        if comment is not None and (not isinstance(comment, str) or "\x00" in comment):
            errors["comment"] = COMMENT_TOO_LONG
        elif comment is not None and len(comment.strip()) > MAX_COMMENT:
            errors["comment"] = COMMENT_TOO_LONG
        if errors:
            raise InvalidFields({name: errors[name] for name in RATING_FIELDS if name in errors})
        return cls(
            score=scores["score"] or 0,
            efficiency=scores["efficiency"],
            level=scores["level"],
            attitude=scores["attitude"],
            comment=(comment or "").strip() or None,
        )


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
    """The visitor rates a finished visit, once, within RATING_DAYS of it (raw values: see Rating.parse)."""
    rating = Rating.parse(
        {"score": score, "efficiency": efficiency, "level": level, "attitude": attitude, "comment": comment}
    )
    ticket = ticket_by_token(session, token, lock=True)
    visit = ticket.visit
    if ticket.status != TicketStatus.DONE or visit is None:
        raise InvalidTransition("A visit can be rated once it is finished.")
    if visit.rating is not None:
        raise AlreadyRated("This visit has already been rated.")
    now = clock.now()
    if now - visit.finished_at > timedelta(days=RATING_DAYS):
        raise RatingClosed(f"A visit can be rated for {RATING_DAYS} days after it.")
    visit.rating = rating.score
    visit.rating_efficiency = rating.efficiency
    visit.rating_level = rating.level
    visit.rating_attitude = rating.attitude
    visit.rating_comment = rating.comment
    visit.rated_at = now
    visit.rating_source = source[:16]
    open_case_if_bad(session, clock, visit)
    record(session, ticket, "rated", now, counter_id=visit.counter_id, score=rating.score, via=source)
    return ticket


def rate_at_counter(session: Session, clock: Clock, counter_id: int, token: str, rating: Rating) -> Ticket:
    """The visitor rates, on the counter's tablet, the visit that tablet is asking about now
    (the one just finished on the duty under way); any other visit is NothingToRate."""
    prompt = awaiting_rating(session, clock, counter_id)
    if prompt is None or prompt["token"] != token:
        raise NothingToRate("No visit at this counter is waiting for this rating.")
    return rate_visit(
        session,
        clock,
        token,
        rating.score,
        efficiency=rating.efficiency,
        level=rating.level,
        attitude=rating.attitude,
        comment=rating.comment,
        source="tablet",
    )
