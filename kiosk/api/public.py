"""What anyone may ask: services, taking a ticket, the ticket's holder, the board."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kiosk.actions import commit
from kiosk.api import bp
from kiosk.api.models import (
    Display,
    DisplayQuery,
    IssueTicket,
    LanguageQuery,
    NoFields,
    RateVisit,
    RatingQuery,
    RatingStored,
    Service,
    Ticket,
)
from kiosk.api.operations import api_route
from kiosk.context import clock, languages, request_language
from kiosk.errors import ApiError
from kiosk.extensions import db, db_session
from kiosk.limits import ticket_limit
from queue_engine import cancel, issue_ticket, rate_visit
from queue_engine.core.kinds import Source
from queue_engine.core.lookups import ticket_by_token
from queue_engine.core.models import Ticket as TicketRow
from queue_engine.queue.snapshots import display_snapshot, issued_ticket_view, service_list, ticket_view
from queue_engine.queue.tickets import client_request_key


@bp.get("/services")
@api_route(query=LanguageQuery, answers={200: list[Service]})
def services(query: LanguageQuery) -> Any:
    """Open services in kiosk order, with waiting counts and the estimated wait for a new ticket."""
    return jsonify(service_list(db_session(), clock(), request_language(query.lang)))


@bp.post("/tickets")
@ticket_limit
@api_route(
    body=IssueTicket,
    answers={201: Ticket},
    errors={
        404: "unknown_service",
        409: "service_closed, service_not_served (no counter serves it), hall_closed",
        422: "lang is not one of the hall's languages",
        429: "rate_limited: too many tickets from this address (QMS_TICKET_RATE_LIMIT)",
    },
)
def take_ticket(body: IssueTicket) -> Any:
    """Take a number for a service (rate-limited per client address).

    With an ``Idempotency-Key`` header (at most 64 characters), a retry with the same key from
    the same client on the same day gets the same ticket (201 again), never a second one.
    """
    if body.lang is not None and body.lang not in languages():
        raise ApiError(422, "invalid_input", f"The field 'lang' must be one of: {', '.join(languages())}.")
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 64:
        raise ApiError(422, "invalid_input", "The Idempotency-Key header has at most 64 characters.")
    request_key = client_request_key(request.remote_addr or "", key, clock().today()) if key else None
    try:
        ticket = issue_ticket(
            db_session(),
            clock(),
            body.service,
            lang=body.lang or request_language(),
            source=Source.API,
            priority=bool(body.priority),
            request_key=request_key,
        )
        commit()
    except IntegrityError:
        # Two retries with one key raced (PostgreSQL): the loser answers with the winner's ticket.
        db.session.rollback()
        if request_key is None:
            raise
        ticket = db.session.scalars(select(TicketRow).where(TicketRow.request_key == request_key)).one()
    return jsonify(issued_ticket_view(db_session(), clock(), ticket)), 201


@bp.get("/tickets/<token>")
@api_route(answers={200: Ticket}, errors={404: "unknown_ticket"})
def ticket(token: str) -> Any:
    """A ticket as its holder sees it: status, position, estimate, counter."""
    return jsonify(ticket_view(db_session(), clock(), ticket_by_token(db_session(), token)))


@bp.post("/tickets/<token>/cancel")
@api_route(body=NoFields, answers={200: Ticket}, errors={404: "unknown_ticket", 409: "invalid_transition"})
def cancel_ticket(token: str, body: NoFields) -> Any:
    """The holder gives up a waiting ticket."""
    ticket = cancel(db_session(), clock(), token)
    commit()
    return jsonify(ticket_view(db_session(), clock(), ticket))


@bp.post("/tickets/<token>/rating")
@api_route(
    body=RateVisit,
    query=RatingQuery,
    answers={201: RatingStored},
    errors={
        403: "staff_cannot_rate: the request carries a staff login (the visitor rates, not the clerk)",
        404: "unknown_ticket",
        409: "invalid_transition (not finished), already_rated, rating_closed (after 7 days)",
        422: "via is not phone or web",
    },
)
def rate(token: str, body: RateVisit, query: RatingQuery) -> Any:
    """The holder rates the finished visit, once, within 7 days."""
    if current_user.is_authenticated:
        # A clerk who knows the ticket would otherwise rate their own visit before the visitor.
        raise ApiError(403, "staff_cannot_rate", "Staff cannot rate a visit; the visitor rates it.")
    ticket = rate_visit(
        db_session(),
        clock(),
        token,
        body.score,
        comment=body.comment,
        efficiency=body.efficiency,
        level=body.level,
        attitude=body.attitude,
        source=query.via,
    )
    commit()
    return jsonify({"token": ticket.token, "number": ticket.number, "score": body.score}), 201


@bp.get("/display")
@api_route(query=DisplayQuery, answers={200: Display})
def display(query: DisplayQuery) -> Any:
    """What a hall board shows; ``?services=A,B`` or ``?counters=1,2`` for one area."""
    return jsonify(display_snapshot(db_session(), clock(), services=query.services, counters=query.counters))
