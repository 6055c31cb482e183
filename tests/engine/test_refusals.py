"""Refusals that do not depend on a ticket's status: busy, paused or someone else's counters,
unknown names, closed services, bad input.  Each raises its named error and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_engine import (
    FakeClock,
    VisitRecord,
    call_next,
    call_ticket,
    cancel,
    close_counter,
    finish_visit,
    issue_ticket,
    mark_no_show,
    open_counter,
    pause_counter,
    rate_visit,
    recall,
    resume_counter,
    start_service,
    transfer,
)
from queue_engine.core.errors import (
    CounterBusy,
    CounterClosed,
    CounterInUse,
    CounterPaused,
    HallClosed,
    InvalidInput,
    NotAtThisCounter,
    NoTicketWaiting,
    QueueError,
    ServiceClosed,
    UnknownCounter,
    UnknownService,
    UnknownTicket,
)
from queue_engine.core.models import Counter, Ticket
from queue_engine.hall.calendar import hall_settings

from .helpers import event_count, ticket_row


@dataclass
class Scene:
    """Services A and B (and X, not taking tickets); counter 1 (clerk1) holds A001, A002 waits.

    Counter 2 serves A and B and is free; counter 3 serves only B; nobody waits for B.
    """

    session: Session
    clock: FakeClock
    c1: Counter
    c2: Counter
    c3: Counter
    clerk1: int
    clerk2: int
    held: Ticket
    waiting: Ticket


@pytest.fixture
def scene(session, clock, make_service, make_counter, make_user) -> Scene:
    a, b = make_service("A"), make_service("B")
    make_service("X", active=False)
    c1, c2, c3 = make_counter("1", [a, b]), make_counter("2", [a, b]), make_counter("3", [b])
    clerk1, clerk2 = make_user("clerk1").id, make_user("clerk2").id
    held = issue_ticket(session, clock, "A")
    waiting = issue_ticket(session, clock, "A")
    session.commit()
    call_next(session, clock, c1.id, clerk1)
    session.commit()
    return Scene(session, clock, c1, c2, c3, clerk1, clerk2, held, waiting)


def _pause_c2(sc: Scene) -> None:
    open_counter(sc.session, sc.clock, sc.c2.id, sc.clerk2)
    pause_counter(sc.session, sc.clock, sc.c2.id, sc.clerk2)


def _close_hall_today(sc: Scene) -> None:
    hall_settings(sc.session).closed_dates = [sc.clock.today().isoformat()]


# (name, preparation committed first, the refused operation, the error it raises)
Case = tuple[str, Callable[[Scene], object] | None, Callable[[Scene], object], type[QueueError]]
CASES: list[Case] = [
    (
        "call-next-while-holding",
        None,
        lambda sc: call_next(sc.session, sc.clock, sc.c1.id, sc.clerk1),
        CounterBusy,
    ),
    (
        "call-ticket-while-holding",
        None,
        lambda sc: call_ticket(sc.session, sc.clock, sc.c1.id, "A002", "urgent", sc.clerk1),
        CounterBusy,
    ),
    (
        "close-counter-while-holding",
        None,
        lambda sc: close_counter(sc.session, sc.clock, sc.c1.id, sc.clerk1),
        CounterBusy,
    ),
    (
        "call-next-paused",
        _pause_c2,
        lambda sc: call_next(sc.session, sc.clock, sc.c2.id, sc.clerk2),
        CounterPaused,
    ),
    (
        "call-ticket-paused",
        _pause_c2,
        lambda sc: call_ticket(sc.session, sc.clock, sc.c2.id, "A002", "urgent", sc.clerk2),
        CounterPaused,
    ),
    (
        "call-next-someone-elses-counter",
        None,
        lambda sc: call_next(sc.session, sc.clock, sc.c1.id, sc.clerk2),
        CounterInUse,
    ),
    (
        "open-someone-elses-counter",
        None,
        lambda sc: open_counter(sc.session, sc.clock, sc.c1.id, sc.clerk2),
        CounterInUse,
    ),
    (
        "close-someone-elses-counter",
        None,
        lambda sc: close_counter(sc.session, sc.clock, sc.c1.id, sc.clerk2),
        CounterInUse,
    ),
    (
        "pause-a-closed-counter",
        None,
        lambda sc: pause_counter(sc.session, sc.clock, sc.c2.id, None),
        CounterClosed,
    ),
    (
        "resume-an-open-counter",
        None,
        lambda sc: resume_counter(sc.session, sc.clock, sc.c1.id, None),
        CounterClosed,
    ),
    ("call-next-nobody-waiting", None, lambda sc: call_next(sc.session, sc.clock, sc.c3.id), NoTicketWaiting),
    ("call-next-unknown-counter", None, lambda sc: call_next(sc.session, sc.clock, 999_999), UnknownCounter),
    ("issue-unknown-service", None, lambda sc: issue_ticket(sc.session, sc.clock, "Z"), UnknownService),
    ("issue-closed-service", None, lambda sc: issue_ticket(sc.session, sc.clock, "X"), ServiceClosed),
    ("issue-closed-hall", _close_hall_today, lambda sc: issue_ticket(sc.session, sc.clock, "A"), HallClosed),
    (
        "issue-unknown-source",
        None,
        lambda sc: issue_ticket(sc.session, sc.clock, "A", source="fax"),
        InvalidInput,
    ),
    (
        "transfer-unknown-service",
        None,
        lambda sc: transfer(sc.session, sc.clock, sc.held.token, "Z"),
        UnknownService,
    ),
    (
        "transfer-closed-service",
        None,
        lambda sc: transfer(sc.session, sc.clock, sc.held.token, "X"),
        ServiceClosed,
    ),
    (
        "transfer-same-service",
        None,
        lambda sc: transfer(sc.session, sc.clock, sc.held.token, "A"),
        InvalidInput,
    ),
    ("cancel-unknown-ticket", None, lambda sc: cancel(sc.session, sc.clock, "no-such-token"), UnknownTicket),
    ("recall-unknown-ticket", None, lambda sc: recall(sc.session, sc.clock, "no-such-token"), UnknownTicket),
    (
        "rate-unknown-ticket",
        None,
        lambda sc: rate_visit(sc.session, sc.clock, "no-such-token", 5),
        UnknownTicket,
    ),
    (
        "call-ticket-unknown-number",
        None,
        lambda sc: call_ticket(sc.session, sc.clock, sc.c2.id, "A777", "urgent"),
        UnknownTicket,
    ),
    (
        "call-ticket-other-service",
        None,
        lambda sc: call_ticket(sc.session, sc.clock, sc.c3.id, "A002", "urgent"),
        InvalidInput,
    ),
    (
        "recall-at-another-counter",
        None,
        lambda sc: recall(sc.session, sc.clock, sc.held.token, counter_id=sc.c2.id),
        NotAtThisCounter,
    ),
    (
        "no-show-at-another-counter",
        None,
        lambda sc: mark_no_show(sc.session, sc.clock, sc.held.token, counter_id=sc.c2.id),
        NotAtThisCounter,
    ),
    (
        "start-at-another-counter",
        None,
        lambda sc: start_service(sc.session, sc.clock, sc.held.token, counter_id=sc.c2.id),
        NotAtThisCounter,
    ),
    (
        "finish-at-another-counter",
        None,
        lambda sc: finish_visit(
            sc.session, sc.clock, sc.held.token, VisitRecord("resolved"), counter_id=sc.c2.id
        ),
        NotAtThisCounter,
    ),
    (
        "transfer-at-another-counter",
        None,
        lambda sc: transfer(sc.session, sc.clock, sc.held.token, "B", counter_id=sc.c2.id),
        NotAtThisCounter,
    ),
]


def _tickets(session: Session) -> list[dict[str, object]]:
    return [ticket_row(session, i) for i in session.scalars(select(Ticket.id).order_by(Ticket.id))]


@pytest.mark.parametrize(("prepare", "operation", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refusal_changes_nothing(scene: Scene, prepare, operation, error) -> None:
    s = scene.session
    if prepare is not None:
        prepare(scene)
        s.commit()
    scene.clock.advance(minutes=1)
    before, events = _tickets(s), event_count(s)

    with pytest.raises(error) as refused:
        operation(scene)

    assert refused.value.code == error.code
    s.flush()
    assert _tickets(s) == before
    assert event_count(s) == events
    s.rollback()
    assert _tickets(s) == before
    assert event_count(s) == events


def test_the_counter_is_free_again_once_its_ticket_is_closed(scene: Scene) -> None:
    s, clock = scene.session, scene.clock
    mark_no_show(s, clock, scene.held.token, counter_id=scene.c1.id)
    assert call_next(s, clock, scene.c1.id, scene.clerk1).id == scene.waiting.id
    s.commit()


def test_a_paused_counter_calls_again_once_resumed(scene: Scene) -> None:
    s, clock = scene.session, scene.clock
    _pause_c2(scene)
    s.commit()
    resume_counter(s, clock, scene.c2.id, scene.clerk2)
    assert call_next(s, clock, scene.c2.id, scene.clerk2).id == scene.waiting.id
    s.commit()


def test_calling_opens_a_closed_counter_for_the_caller(scene: Scene) -> None:
    s, clock = scene.session, scene.clock
    assert scene.c2.state == "closed"
    call_next(s, clock, scene.c2.id, scene.clerk2)
    s.commit()
    assert (scene.c2.state, scene.c2.staff_id) == ("open", scene.clerk2)
    with pytest.raises(CounterInUse):
        open_counter(s, clock, scene.c2.id, scene.clerk1)
    s.rollback()
