"""Counters: their state, and calling visitors to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, jsonify
from pydantic import BaseModel
from sqlalchemy import select

from kiosk.actions import commit
from kiosk.api import bp
from kiosk.api.models import CalledTicket, CallTicket, CloseCounter, NoFields, OpenedCounter
from kiosk.api.models import Counter as CounterAnswer
from kiosk.api.operations import View, api_route
from kiosk.auth import MANAGER_ROLES, STAFF_ROLES, staff
from kiosk.context import clock
from kiosk.extensions import db, db_session
from queue_engine import (
    active_ticket,
    call_next,
    call_ticket,
    close_counter,
    open_counter,
    pause_counter,
    resume_counter,
)
from queue_engine.core.clock import iso
from queue_engine.core.errors import NoTicketWaiting
from queue_engine.core.lookups import counter_by_id
from queue_engine.core.models import Counter
from queue_engine.queue.counters import last_handover
from queue_engine.queue.snapshots import ticket_view


def counter_view(counter: Counter) -> dict[str, Any]:
    """A counter as staff see it (no personal data of visitors)."""
    held = active_ticket(db_session(), counter.id)
    return {
        "id": counter.id,
        "name": counter.name,
        "state": str(counter.state),
        "state_since": iso(counter.state_since),
        "services": [s.code for s in counter.services],
        "staff": counter.staff.username if counter.staff else None,
        "ticket": None
        if held is None
        else {"token": held.token, "number": held.number, "status": str(held.status)},
    }


def allowed_counter(counter_id: int) -> Counter:
    """The counter, if the caller may work at it."""
    counter = counter_by_id(db_session(), counter_id)
    if not staff().may_use_counter(counter):
        abort(403)
    return counter


FORBIDDEN = {403: "forbidden: the caller may not work at this counter"}
STATE = "counter_busy, counter_closed, counter_paused, counter_in_use"


@bp.get("/counters")
@api_route(roles=STAFF_ROLES, answers={200: list[CounterAnswer]})
def counters() -> Any:
    """Every active counter with its state; for clerks, the ones they may use."""
    user = staff()
    rows = db.session.scalars(select(Counter).where(Counter.active.is_(True)).order_by(Counter.id))
    return jsonify([counter_view(c) for c in rows if user.may_use_counter(c)])


@bp.post("/counters/<int:counter_id>/call-next")
@api_route(
    body=NoFields,
    roles=STAFF_ROLES,
    answers={200: CalledTicket, 204: None},
    errors={**FORBIDDEN, 404: "unknown_counter", 409: STATE},
)
def call_next_ticket(counter_id: int, body: NoFields) -> Any:
    """Call the next visitor: 200 with the ticket, 204 when nobody waits, 409 when busy.

    A closed counter is opened for the caller on the way.
    """
    allowed_counter(counter_id)
    try:
        ticket = call_next(db_session(), clock(), counter_id, staff().id)
    except NoTicketWaiting:
        # Opening the counter on the way is still worth keeping.
        commit()
        return "", 204
    commit()
    return jsonify({"ticket": ticket_view(db_session(), clock(), ticket)})


@bp.post("/counters/<int:counter_id>/call")
@api_route(
    body=CallTicket,
    roles=STAFF_ROLES,
    answers={200: CalledTicket},
    errors={**FORBIDDEN, 404: "unknown_counter, unknown_ticket", 409: STATE},
)
def call_specific(counter_id: int, body: CallTicket) -> Any:
    """Call one waiting ticket (number or token) out of order, with a reason."""
    allowed_counter(counter_id)
    ticket = call_ticket(db_session(), clock(), counter_id, body.ticket, body.reason, staff().id)
    commit()
    return jsonify({"ticket": ticket_view(db_session(), clock(), ticket)})


def _counter_action(counter_id: int, operation: Callable[..., Counter], **kwargs: Any) -> Any:
    allowed_counter(counter_id)
    counter = operation(db_session(), clock(), counter_id, staff().id, **kwargs)
    commit()
    return jsonify(counter_view(counter))


def counter_contract(
    answer: type[CounterAnswer] = CounterAnswer, body: type[BaseModel] = NoFields
) -> Callable[[View], View]:
    """The contract every counter action shares: 200 with the counter."""
    return api_route(
        body=body,
        roles=STAFF_ROLES,
        answers={200: answer},
        errors={**FORBIDDEN, 404: "unknown_counter", 409: STATE},
    )


@bp.post("/counters/<int:counter_id>/open")
@counter_contract(OpenedCounter)
def open_(counter_id: int, body: NoFields) -> Any:
    """Go on duty at a counter; the answer carries the last shift's handover note."""
    allowed_counter(counter_id)
    counter = open_counter(db_session(), clock(), counter_id, staff().id)
    commit()
    return jsonify({**counter_view(counter), "handover_note": last_handover(db_session(), counter_id)})


@bp.post("/counters/<int:counter_id>/pause")
@counter_contract()
def pause(counter_id: int, body: NoFields) -> Any:
    """Stop calling for a while."""
    return _counter_action(counter_id, pause_counter)


@bp.post("/counters/<int:counter_id>/resume")
@counter_contract()
def resume(counter_id: int, body: NoFields) -> Any:
    """Take calls again."""
    return _counter_action(counter_id, resume_counter)


@bp.post("/counters/<int:counter_id>/close")
@counter_contract(body=CloseCounter)
def close(counter_id: int, body: CloseCounter) -> Any:
    """Go off duty, leaving a handover note; supervisors may close anyone's counter."""
    force = staff().role in MANAGER_ROLES
    return _counter_action(counter_id, close_counter, handover_note=body.handover_note or "", force=force)
