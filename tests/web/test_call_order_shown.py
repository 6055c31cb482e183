"""What the counter's "Next" list and the visitors' phones show is the order call-next calls in.

A phone's position ("2 people ahead") counts everyone called before it at the counters that can
serve it (issue 17): here counters 1 and 2, open, serve every service, so it is the ticket's
place in the whole order counter 1 then calls, whatever the service.

For every priority policy: a queue of mixed services, priority tickets and a transferred
ticket; the counter's list as the clerk sees it (the HTMX partial) and each phone's position
(the API a phone reads) are taken first, then counter 1 calls its whole queue.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kiosk.extensions import db
from queue_engine.core.kinds import PriorityPolicy
from queue_engine.core.models import Hall
from tests.web.staff_login import log_in

# Arrivals after the transferred ticket: (service, priority).
ARRIVALS = [("A", False), ("B", False), ("D", True), ("A", False), ("B", True), ("D", False), ("A", False)]


def _set_policy(app, policy: str, every_n: int) -> None:
    with app.app_context():
        hall = db.session.scalars(select(Hall)).one()
        hall.priority_policy, hall.priority_every_n = policy, every_n
        db.session.commit()


def _shown_next(client) -> list[str]:
    html = client.get("/counter/1/panel", headers={"HX-Request": "true"}).get_data(as_text=True)
    listed = html.split('<ol class="next">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<span class="num">([A-Z]+\d+)</span>', listed)


@pytest.mark.parametrize(
    ("policy", "every_n"),
    [
        (PriorityPolicy.STRICT, 3),
        (PriorityPolicy.PRIORITY_FIRST, 3),
        (PriorityPolicy.EVERY_N, 1),
        (PriorityPolicy.EVERY_N, 2),
    ],
)
def test_the_list_shown_and_the_positions_are_the_order_called(
    app, client, clock, auth, call_next, take_ticket, policy, every_n
):
    _set_policy(app, policy, every_n)
    # The earliest visitor came for B, was called at counter 2 and sent on to A: same place.
    moved = take_ticket("B")
    clock.advance(seconds=30)
    assert call_next(2).status_code == 200
    answer = client.post(
        f"/api/v1/tickets/{moved['token']}/transfer", json={"service": "A"}, headers=auth("clerk2")
    )
    assert answer.status_code == 200, answer.get_json()
    tickets = {moved["number"]: moved["token"]}
    for code, priority in ARRIVALS:
        clock.advance(seconds=30)
        ticket = take_ticket(code, priority=priority)
        tickets[ticket["number"]] = ticket["token"]

    clerk = app.test_client()
    log_in(clerk, "clerk1")
    shown = _shown_next(clerk)
    assert sorted(shown) == sorted(tickets)
    phones = {number: client.get(f"/api/v1/tickets/{token}").get_json() for number, token in tickets.items()}
    positions = {number: view["position"] for number, view in phones.items()}
    services = {number: view["service"] for number, view in phones.items()}

    called = []
    for _ in tickets:
        answer = call_next(1)
        assert answer.status_code == 200, answer.get_json()
        number, token = answer.get_json()["ticket"]["number"], answer.get_json()["ticket"]["token"]
        called.append(number)
        done = client.post(
            f"/api/v1/tickets/{token}/finish", json={"outcome": "resolved"}, headers=auth("clerk1")
        )
        assert done.status_code == 200, done.get_json()
    assert call_next(1).status_code == 204

    assert called == shown
    # A phone's position is its place in the order everyone was called, all services together.
    assert [positions[n] for n in called] == list(range(1, len(called) + 1))
    assert len(set(services.values())) > 1  # the count crosses services
    # The transferred visitor, the first to come, is called first unless a priority ticket goes before.
    if policy == PriorityPolicy.STRICT:
        assert called[0] == moved["number"]


def test_a_priority_ticket_is_told_its_place_under_every_n(app, client, call_next, take_ticket, clock):
    """Four normal visitors wait and two were just called: the priority ticket is next, and is told so."""
    _set_policy(app, PriorityPolicy.EVERY_N, 2)
    for _ in range(6):
        clock.advance(seconds=30)
        take_ticket("A")
    for counter_id in (1, 2):
        assert call_next(counter_id).status_code == 200
    clock.advance(seconds=30)
    priority = take_ticket("A", priority=True)
    assert (priority["position"], client.get(f"/api/v1/tickets/{priority['token']}").get_json()["ahead"]) == (
        1,
        0,
    )
    assert call_next(3).get_json()["ticket"]["number"] == priority["number"]
