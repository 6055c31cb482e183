"""Socket.IO: snapshots on join, calls reaching boards and phones, and no personal data on screens."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kiosk.extensions import socketio

from .helpers import delivered


def received(sio) -> list[tuple[str, Any]]:
    """(event name, payload) of every event waiting for a Socket.IO test client."""
    return [(event["name"], event["args"][0] if event["args"] else None) for event in delivered(sio)]


def named(events: list[tuple[str, Any]], name: str) -> list[Any]:
    """The payloads of the events with a name."""
    return [payload for event, payload in events if event == name]


@pytest.fixture
def board(app, client):
    """A Socket.IO client joined to the display room; its join snapshot already read."""
    sio = socketio.test_client(app, flask_test_client=client)
    assert sio.is_connected()
    sio.emit("join", {"room": "display"})
    yield sio
    sio.disconnect()


@pytest.fixture
def phone(app, client):
    """Joins a Socket.IO client to a ticket's room."""
    clients = []

    def join(token: str):
        sio = socketio.test_client(app, flask_test_client=client)
        sio.emit("join", {"room": "ticket", "token": token})
        clients.append(sio)
        return sio

    yield join
    for sio in clients:
        sio.disconnect()


def test_a_board_gets_a_snapshot_when_it_joins(app, client, take_ticket):
    take_ticket("B")
    sio = socketio.test_client(app, flask_test_client=client)

    sio.emit("join", {"room": "display"})

    snapshots = named(received(sio), "display:snapshot")
    sio.disconnect()
    assert len(snapshots) == 1
    assert snapshots[0]["now_serving"] == []
    assert snapshots[0]["waiting"]["B"] == 1
    assert snapshots[0]["waiting"] == client.get("/api/v1/display").get_json()["waiting"]


def test_a_call_reaches_the_board(board, take_ticket, call_next):
    ticket = take_ticket("A")
    received(board)  # the join snapshot and the ticket's own update

    answer = call_next(3).get_json()["ticket"]

    events = received(board)
    calls = named(events, "display:call")
    assert [(c["number"], c["counter"]) for c in calls] == [(ticket["number"], answer["counter"]["name"])]
    snapshot = named(events, "display:snapshot")[-1]
    assert [(s["number"], s["counter"]) for s in snapshot["now_serving"]] == [
        (ticket["number"], answer["counter"]["name"])
    ]
    assert snapshot["waiting"]["A"] == 0


def test_a_recall_is_announced_again(board, client, auth, take_ticket, call_next):
    ticket = take_ticket("A")
    call_next(1)
    received(board)

    client.post(f"/api/v1/tickets/{ticket['token']}/recall", headers=auth("clerk1"))

    calls = named(received(board), "display:call")
    assert [(c["number"], c["call_count"]) for c in calls] == [(ticket["number"], 2)]


def test_a_refused_action_sends_nothing(board, client, auth, take_ticket, call_next):
    take_ticket("A")
    take_ticket("A")
    call_next(1)
    received(board)

    assert call_next(1).status_code == 409
    assert client.post("/api/v1/tickets", json={"service": "Z"}).status_code == 404

    assert received(board) == []


def test_the_holder_hears_the_call(phone, take_ticket, call_next):
    ticket = take_ticket("A")
    sio = phone(ticket["token"])
    joined = named(received(sio), "ticket:update")
    assert [(t["token"], t["status"], t["position"]) for t in joined] == [(ticket["token"], "waiting", 1)]

    answer = call_next(2).get_json()["ticket"]

    updates = named(received(sio), "ticket:update")
    assert len(updates) == 1
    assert updates[0]["token"] == ticket["token"]
    assert updates[0]["status"] == "called"
    assert updates[0]["counter"] == answer["counter"]
    assert updates[0]["counter"]["id"] == 2


def test_waiting_holders_hear_their_new_position(phone, take_ticket, call_next):
    first = take_ticket("A")
    second = take_ticket("A")
    third = take_ticket("A")
    other_service = take_ticket("D")
    sios = {t["token"]: phone(t["token"]) for t in (second, third, other_service)}
    for sio in sios.values():
        received(sio)

    call_next(1)

    # Each phone hears its own new place, and nothing of anyone else's.
    places = {token: named(received(sio), "ticket:position") for token, sio in sios.items()}
    assert [(p["token"], p["number"], p["ahead"], p["position"]) for p in places[second["token"]]] == [
        (second["token"], second["number"], 0, 1)
    ]
    assert [(p["token"], p["ahead"]) for p in places[third["token"]]] == [(third["token"], 1)]
    assert all(
        isinstance(p["estimated_wait_s"], int) for p in places[second["token"]] + places[third["token"]]
    )
    # Counter 1 serves D too: the D visitor now waits behind A's two (before, no counter was open).
    assert [(p["number"], p["ahead"]) for p in places[other_service["token"]]] == [
        (other_service["number"], 2)
    ]
    assert first["number"] not in str(places)


def test_a_phone_hears_what_it_needs_whatever_the_queues_length(client, phone, take_ticket, call_next):
    """DESIGN §6: a change costs the same whatever the queue's length; never the whole list.

    Before, every phone of a service was sent the whole waiting list on every change (about
    60 bytes a waiting visitor: 12 KB a change at 200 waiting, to each phone).
    """
    tickets = [take_ticket("D") for _ in range(200)]
    last = tickets[-1]
    sio = phone(last["token"])
    received(sio)

    call_next(4)  # counter 4 serves D alone
    take_ticket("D")  # someone behind: the places ahead do not move, the estimate may

    events = received(sio)
    places = named(events, "ticket:position")
    assert [(p["number"], p["ahead"]) for p in places][0] == (last["number"], 198)
    assert max(len(json.dumps(payload)) for _, payload in events) < 400
    api = client.get(f"/api/v1/tickets/{last['token']}").get_json()
    assert (places[-1]["position"], places[-1]["estimated_wait_s"]) == (
        api["position"],
        api["estimated_wait_s"],
    )
    others = {t["number"] for t in tickets[:-1]}
    assert not others & {p["number"] for p in places}


def test_the_numbers_now_called_reach_the_phone_without_a_request(phone, take_ticket, call_next):
    """The phone's "Now called" is pushed (``queue:calls``), not fetched by every phone on every change."""
    first = take_ticket("B")
    mine = take_ticket("B")
    sio = phone(mine["token"])
    (joined,) = named(received(sio), "queue:calls")
    assert joined == {"service": "B", "calls": []}

    answer = call_next(3).get_json()["ticket"]  # counter 3 serves A and B

    (now,) = named(received(sio), "queue:calls")
    assert now == {
        "service": "B",
        "calls": [{"counter": answer["counter"]["name"], "number": first["number"]}],
    }


def test_a_call_of_another_service_on_a_shared_counter_moves_the_place(client, phone, take_ticket, call_next):
    """Counter 3 serves A and B: a B visitor called there leaves another B visitor ahead of the A one.

    Before issue 17 the A phone read "you are next" and heard nothing of a call of B.
    """
    take_ticket("B")
    second_b = take_ticket("B")
    mine = take_ticket("A")
    sio = phone(mine["token"])
    received(sio)

    call_next(3)

    (place,) = named(received(sio), "ticket:position")
    number, ahead, wait = place["number"], place["ahead"], place["estimated_wait_s"]
    assert (number, ahead) == (mine["number"], 1)  # second_b goes first at counter 3
    assert wait >= 600  # the B visit under way, then second_b's
    page = phone(mine["token"])
    (view,) = named(received(page), "ticket:update")
    assert (view["position"], view["ahead"]) == (2, 1)
    api = client.get(f"/api/v1/tickets/{mine['token']}").get_json()
    assert (api["position"], api["ahead"], api["estimated_wait_s"]) == (2, 1, view["estimated_wait_s"])
    assert second_b["status"] == "waiting"


def tokens_in(payload: Any) -> set[str]:
    """Every value under a "token" key anywhere in a payload."""
    if isinstance(payload, dict):
        own = {payload["token"]} if isinstance(payload.get("token"), str) else set()
        return own.union(*(tokens_in(v) for v in payload.values()))
    if isinstance(payload, list | tuple):
        return set().union(*(tokens_in(v) for v in payload))
    return set()


def test_a_holder_hears_of_no_other_ticket(phone, take_ticket, call_next):
    # A ticket's token lets its holder cancel it: no other phone may ever see it.
    ahead = take_ticket("A")
    mine = take_ticket("A")
    sio = phone(mine["token"])
    received(sio)
    behind = take_ticket("A")

    call_next(1)

    events = received(sio)
    assert named(events, "ticket:position"), "the holder heard of the move"
    assert tokens_in(events) <= {mine["token"]}
    assert not {ahead["token"], behind["token"]} & tokens_in(events)


def test_boards_never_see_ticket_tokens(client, board, auth, take_ticket, call_next):
    tickets = [take_ticket(code) for code in "AABCD"]
    call_next(1)
    call_next(4)
    client.post(f"/api/v1/tickets/{tickets[0]['token']}/recall", headers=auth("clerk1"))

    shown = [received(board), client.get("/api/v1/display").get_json()]

    text = json.dumps(shown)
    assert "display:call" in text
    for ticket in tickets:
        assert ticket["token"] not in text


def test_an_unknown_ticket_room_is_refused(app, client):
    sio = socketio.test_client(app, flask_test_client=client)

    sio.emit("join", {"room": "ticket", "token": "no-such-token"})

    events = received(sio)
    sio.disconnect()
    assert named(events, "error") == [{"code": "unknown_ticket"}]
    assert named(events, "ticket:update") == []


def test_anonymous_clients_cannot_join_staff_rooms(app, client):
    sio = socketio.test_client(app, flask_test_client=client)

    sio.emit("join", {"room": "supervisor"})
    sio.emit("join", {"room": "counter", "counter_id": 1})

    events = received(sio)
    sio.disconnect()
    assert [name for name, _ in events] == ["error", "error"]


def test_personal_data_never_reaches_public_screens(app, client, board, phone, auth, take_ticket, call_next):
    name, contact = "Zhang Weiqiang-7731", "139-4455-7731"
    ticket = take_ticket("C")
    behind = take_ticket("C")
    holder = phone(ticket["token"])
    waiting_holder = phone(behind["token"])
    clerk = auth("clerk4")
    call_next(4)
    client.post(f"/api/v1/tickets/{ticket['token']}/start", headers=clerk)
    record = {
        "outcome": "follow_up",
        "customer_name": name,
        "contact": contact,
        "description": f"Complaint raised by {name}",
        "notes": f"call back on {contact}",
        "department": "督查科",  # a complaint needs its responsible department
    }
    finished = client.post(f"/api/v1/tickets/{ticket['token']}/finish", json=record, headers=clerk)
    assert finished.status_code == 200
    client.post(f"/api/v1/tickets/{ticket['token']}/rating", json={"score": 2, "comment": "slow"})
    call_next(4)

    seen = {
        "socket:board": received(board),
        "socket:holder": received(holder),
        "socket:waiting": received(waiting_holder),
        "GET display": client.get("/api/v1/display").get_json(),
        "GET ticket": client.get(f"/api/v1/tickets/{ticket['token']}").get_json(),
    }
    assert named(seen["socket:holder"], "ticket:update"), "the holder was told about the visit"
    assert named(seen["socket:board"], "display:call"), "the board saw the calls"
    for where, payload in seen.items():
        text = json.dumps(payload, ensure_ascii=False)
        for secret in (name, contact, "Zhang", "7731"):
            assert secret not in text, f"{secret!r} leaked into {where}"
