"""A service no active counter serves takes no tickets: nobody would ever call them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from queue_engine.core.errors import ServiceNotServed
from queue_engine.core.models import Ticket
from queue_engine.queue.coverage import unserved_services
from queue_engine.queue.tickets import issue_ticket


def test_a_service_without_a_counter_refuses_a_ticket(session, clock, make_service):
    make_service("Z", served=False)

    with pytest.raises(ServiceNotServed, match="No counter serves service Z"):
        issue_ticket(session, clock, "Z")

    assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert [s.code for s in unserved_services(session)] == ["Z"]


def test_an_inactive_counter_serves_nobody_and_a_closed_one_still_does(
    session, clock, make_service, make_counter
):
    z = make_service("Z", served=False)
    counter = make_counter("9", [z])
    counter.active = False
    session.commit()
    with pytest.raises(ServiceNotServed):
        issue_ticket(session, clock, "Z")

    counter.active = True  # closed (nobody on duty yet) but set up to serve Z
    session.commit()

    assert issue_ticket(session, clock, "Z").number == "Z001"
    assert unserved_services(session) == []
