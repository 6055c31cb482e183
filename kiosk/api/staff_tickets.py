"""Staff actions on a ticket: recall, no-show, start, finish, transfer, and marking it priority."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import abort, jsonify
from pydantic import BaseModel

from kiosk.actions import commit
from kiosk.api import bp
from kiosk.api.models import FinishVisit, NoFields, TransferTicket
from kiosk.api.models import Ticket as TicketAnswer
from kiosk.api.operations import View, api_route
from kiosk.auth import STAFF_ROLES, staff
from kiosk.context import clock
from kiosk.extensions import db_session
from queue_engine import (
    VisitRecord,
    finish_visit,
    mark_no_show,
    mark_priority,
    recall,
    start_service,
    transfer,
)
from queue_engine.core.kinds import Role
from queue_engine.core.lookups import ticket_by_token
from queue_engine.core.models import Ticket
from queue_engine.queue.counters import open_for_someone_else
from queue_engine.queue.snapshots import ticket_view

FORBIDDEN = "forbidden: the ticket is at a counter the caller may not use, or another clerk's"
TICKET_ERRORS = {403: FORBIDDEN, 404: "unknown_ticket", 409: "invalid_transition, not_at_this_counter"}


def authorise_ticket(token: str) -> Ticket:
    """The ticket, if the caller may act on it: staff allowed at (and on duty at) its counter."""
    ticket = ticket_by_token(db_session(), token)
    user = staff()
    counter = ticket.counter
    if counter is not None:
        if not user.may_use_counter(counter):
            abort(403)
        if user.role == Role.CLERK and open_for_someone_else(counter, user.id):
            abort(403)
    return ticket


def _act(token: str, operation: Callable[..., Ticket], **kwargs: Any) -> Any:
    authorise_ticket(token)
    ticket = operation(db_session(), clock(), token, staff_id=staff().id, **kwargs)
    commit()
    return jsonify(ticket_view(db_session(), clock(), ticket))


def ticket_contract(
    body: type[BaseModel] = NoFields, errors: Mapping[int, str] | None = None
) -> Callable[[View], View]:
    """The contract every staff action on a ticket shares: 200 with the ticket."""
    return api_route(
        body=body, roles=STAFF_ROLES, answers={200: TicketAnswer}, errors={**TICKET_ERRORS, **(errors or {})}
    )


@bp.post("/tickets/<token>/recall")
@ticket_contract()
def recall_ticket(token: str, body: NoFields) -> Any:
    """Announce the called ticket again."""
    return _act(token, recall)


@bp.post("/tickets/<token>/no-show")
@ticket_contract()
def no_show(token: str, body: NoFields) -> Any:
    """The called visitor did not come."""
    return _act(token, mark_no_show)


@bp.post("/tickets/<token>/start")
@ticket_contract()
def start(token: str, body: NoFields) -> Any:
    """The called visitor is at the counter."""
    return _act(token, start_service)


@bp.post("/tickets/<token>/finish")
@ticket_contract(FinishVisit)
def finish(token: str, body: FinishVisit) -> Any:
    """Close the visit with its record; a complaint service's visit opens a complaint."""
    # The body's shape in FinishVisit; its rules (limits, outcome, department) in VisitRecord.parse.
    record = VisitRecord.parse(body.model_dump(exclude_none=True, mode="json"))
    return _act(token, finish_visit, visit_record=record)


@bp.post("/tickets/<token>/transfer")
@ticket_contract(
    TransferTicket,
    {
        404: "unknown_ticket, unknown_service",
        409: "invalid_transition, not_at_this_counter, service_closed, service_not_served",
        422: "already in that service",
    },
)
def transfer_ticket(token: str, body: TransferTicket) -> Any:
    """Send the visitor to another service's queue, keeping number and place."""
    return _act(token, transfer, service_code=body.service)


@bp.post("/tickets/<token>/priority")
@ticket_contract(errors={409: "invalid_transition (not waiting or called)"})
def priority(token: str, body: NoFields) -> Any:
    """Mark a waiting or called visitor as priority (老年人 / 残疾人 / 孕妇); the call order follows the
    hall's priority policy. A clerk may mark only tickets of services at a counter they may use."""
    ticket = authorise_ticket(token)
    user = staff()
    if ticket.counter is None and user.role == Role.CLERK:
        if not any(user.may_use_counter(c) for c in ticket.service.counters if c.active):
            abort(403)
    return _act(token, mark_priority)
