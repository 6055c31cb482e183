"""What anyone may ask: services, taking a ticket, the ticket's holder, the board."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from kiosk.api import bp
from kiosk.api.validation import Field, json_body
from kiosk.context import clock, languages, request_language
from kiosk.extensions import db
from kiosk.limits import ticket_limit
from kiosk.realtime import commit
from queue_engine import cancel, issue_ticket, rate_visit
from queue_engine.core.lookups import ticket_by_token
from queue_engine.core.models import Source
from queue_engine.quality.ratings import DIMENSIONS
from queue_engine.queue.snapshots import display_snapshot, service_list, ticket_view


@bp.get("/services")
def services() -> Any:
    """Open services with their waiting counts and the estimated wait for a new ticket."""
    return jsonify(service_list(db.session, clock(), request_language()))


@bp.post("/tickets")
@ticket_limit
def take_ticket() -> Any:
    """Take a number for a service."""
    body = json_body(
        {
            "service": Field(str, required=True, max_length=16),
            "lang": Field(str, choices=tuple(languages())),
            "priority": Field(bool),
        }
    )
    ticket = issue_ticket(
        db.session,
        clock(),
        body["service"],
        lang=body.get("lang") or request_language(),
        source=Source.API,
        priority=bool(body.get("priority")),
    )
    commit()
    return jsonify(ticket_view(db.session, clock(), ticket)), 201


@bp.get("/tickets/<token>")
def ticket(token: str) -> Any:
    """A ticket as its holder sees it: status, position, estimate, counter."""
    return jsonify(ticket_view(db.session, clock(), ticket_by_token(db.session, token)))


@bp.post("/tickets/<token>/cancel")
def cancel_ticket(token: str) -> Any:
    """The holder gives up a waiting ticket."""
    json_body({})
    ticket = cancel(db.session, clock(), token)
    commit()
    return jsonify(ticket_view(db.session, clock(), ticket))


@bp.post("/tickets/<token>/rating")
def rate(token: str) -> Any:
    """The holder rates the finished visit, once."""
    # The body's shape here; its rules (1 to 5, the comment's length) in Rating.parse.
    body = json_body({"score": Field(int), "comment": Field(str), **{d: Field(int) for d in DIMENSIONS}})
    ticket = rate_visit(
        db.session,
        clock(),
        token,
        body.get("score"),
        comment=body.get("comment"),
        efficiency=body.get("efficiency"),
        level=body.get("level"),
        attitude=body.get("attitude"),
        source=request.args.get("via", "phone")[:16],
    )
    commit()
    return jsonify({"token": ticket.token, "number": ticket.number, "score": body["score"]}), 201


@bp.get("/display")
def display() -> Any:
    """What a hall board shows; ``?services=A,B`` or ``?counters=1,2`` for one area."""
    services = [s for s in request.args.get("services", "").split(",") if s.strip()]
    counters = [int(c) for c in request.args.get("counters", "").split(",") if c.strip().isdigit()]
    return jsonify(display_snapshot(db.session, clock(), services=services, counters=counters))
