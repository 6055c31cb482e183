"""Staff actions on a called or served ticket: recall, no-show, start, finish, transfer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, jsonify

from kiosk.api import bp
from kiosk.api.validation import Field, json_body
from kiosk.auth import STAFF_ROLES, roles_required, staff
from kiosk.context import clock
from kiosk.extensions import db
from kiosk.realtime import commit
from queue_engine import VisitRecord, finish_visit, mark_no_show, recall, start_service, transfer
from queue_engine.core.lookups import ticket_by_token
from queue_engine.core.models import Role, Ticket
from queue_engine.queue.snapshots import ticket_view
from queue_engine.queue.visit_record import RECORD_FIELDS


def authorise_ticket(token: str) -> Ticket:
    """The ticket, if the caller may act on it: staff allowed at (and on duty at) its counter."""
    ticket = ticket_by_token(db.session, token)
    user = staff()
    counter = ticket.counter
    if counter is not None:
        if not user.may_use_counter(counter):
            abort(403)
        if user.role == Role.CLERK and counter.staff_id not in (None, user.id):
            abort(403)
    return ticket


def _act(token: str, operation: Callable[..., Ticket], **kwargs: Any) -> Any:
    authorise_ticket(token)
    ticket = operation(db.session, clock(), token, staff_id=staff().id, **kwargs)
    commit()
    return jsonify(ticket_view(db.session, clock(), ticket))


@bp.post("/tickets/<token>/recall")
@roles_required(*STAFF_ROLES)
def recall_ticket(token: str) -> Any:
    """Announce the called ticket again."""
    json_body({})
    return _act(token, recall)


@bp.post("/tickets/<token>/no-show")
@roles_required(*STAFF_ROLES)
def no_show(token: str) -> Any:
    """The called visitor did not come."""
    json_body({})
    return _act(token, mark_no_show)


@bp.post("/tickets/<token>/start")
@roles_required(*STAFF_ROLES)
def start(token: str) -> Any:
    """The called visitor is at the counter."""
    json_body({})
    return _act(token, start_service)


@bp.post("/tickets/<token>/finish")
@roles_required(*STAFF_ROLES)
def finish(token: str) -> Any:
    """Close the visit with its record."""
    # The body's shape here; its rules (limits, outcome, department) in VisitRecord.parse.
    body = json_body({name: Field(str) for name in RECORD_FIELDS})
    record = VisitRecord.parse(body)  # finish_visit adds the rules that depend on the ticket
    return _act(token, finish_visit, visit_record=record)


@bp.post("/tickets/<token>/transfer")
@roles_required(*STAFF_ROLES)
def transfer_ticket(token: str) -> Any:
    """Send the visitor to another service's queue, keeping number and place."""
    body = json_body({"service": Field(str, required=True, max_length=16)})
    return _act(token, transfer, service_code=body["service"])
