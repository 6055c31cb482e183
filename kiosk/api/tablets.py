"""The counter's rating tablet (评价器): judged by its own device token, never a clerk's login."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from kiosk.actions import commit
from kiosk.api import bp
from kiosk.api.models import RatingStored, TabletRating
from kiosk.api.operations import api_route
from kiosk.auth import token_digest
from kiosk.context import clock
from kiosk.extensions import db_session
from queue_engine.core.lookups import tablet_by_digest
from queue_engine.quality.ratings import Rating, rate_at_counter


@bp.post("/tablets/<device>/rating")
@api_route(
    body=TabletRating,
    answers={201: RatingStored},
    errors={
        404: "unknown_tablet: not registered, or revoked",
        409: "nothing_to_rate (not the visit just finished on the counter's current duty), already_rated",
    },
)
def tablet_rating(device: str, body: TabletRating) -> Any:
    """The visitor's rating on a counter's tablet, of the visit that tablet is asking about."""
    tablet = tablet_by_digest(db_session(), token_digest(device))
    rating = Rating.parse(body.model_dump(exclude={"ticket"}))
    ticket = rate_at_counter(db_session(), clock(), tablet.counter_id, body.ticket, rating)
    commit()
    return jsonify({"token": ticket.token, "number": ticket.number, "score": rating.score}), 201
