"""After a long random day, every phone shows what the API says of its ticket, every board the hall.

Issue 12's consistency check (DESIGN §6): screens are kept up to date by pushes alone (a phone
hears ``ticket:update`` for its own changes and ``ticket:position`` when the queue moves
around it; a board ``display:snapshot``), so a change that forgets to tell a screen leaves it
wrong until it reconnects. 2,000 random operations (issue, priority tickets, call, recall,
start, finish, no-show, transfer, cancel, pauses and resumes, time passing) through the API,
with Socket.IO clients following 40 tickets and two boards; at checkpoints and at the end each
phone's last word must equal ``GET /api/v1/tickets/<token>`` and each board's
``GET /api/v1/display``. The hall clock is a fake one: the estimates of both sides are for the
same instant.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from kiosk.extensions import socketio

from .helpers import delivered

OPERATIONS = 2_000
CHECK_EVERY = 400
PHONES = 40
SERVICES = ("A", "B", "D")  # C, the complaints desk, needs a whole record to finish
COUNTERS = (1, 2, 3, 4)


class Phone:
    """A phone following one ticket: what its page shows after every push it heard."""

    def __init__(self, app: Any, client: Any, token: str) -> None:
        self.token = token
        self.sio = socketio.test_client(app, flask_test_client=client)
        self.sio.emit("join", {"room": "ticket", "token": token})
        self.shown: dict[str, Any] = {}

    def hear(self) -> None:
        for event in delivered(self.sio):
            payload = event["args"][0] if event["args"] else {}
            if event["name"] == "ticket:update":
                assert payload["token"] == self.token
                self.shown = {k: payload[k] for k in ("status", "position", "estimated_wait_s")}
            elif event["name"] == "ticket:position":
                assert payload["token"] == self.token
                assert self.shown.get("status") == "waiting", "a place told to a ticket no longer waiting"
                self.shown = {k: payload[k] for k in ("status", "position", "estimated_wait_s")}


class Board:
    """A hall board: the last snapshot it was sent."""

    def __init__(self, app: Any, client: Any) -> None:
        self.sio = socketio.test_client(app, flask_test_client=client)
        self.sio.emit("join", {"room": "display"})
        self.shown: dict[str, Any] = {}

    def hear(self) -> None:
        for event in delivered(self.sio):
            if event["name"] == "display:snapshot":
                self.shown = event["args"][0]


@pytest.fixture
def hall(app, client):
    phones: list[Phone] = []
    boards = [Board(app, client) for _ in range(2)]
    yield phones, boards
    for screen in [*phones, *boards]:
        screen.sio.disconnect()


def test_after_a_random_day_every_screen_shows_what_the_api_says(app, client, auth, clock, hall):
    phones, boards = hall
    staff = auth("supervisor")
    rng = random.Random(20261204)
    status: dict[str, tuple[str, str]] = {}  # token: (status, service), as the API last answered
    paused: set[int] = set()
    answers: dict[int, int] = {}
    compared: list[str] = []  # the status of each phone compared, at every check

    def post(path: str, body: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None) -> Any:
        answer = client.post(f"/api/v1{path}", json=body or {}, headers=headers or staff)
        answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, answer.get_data(as_text=True)
        found = answer.get_json(silent=True) or {}
        ticket = found.get("ticket", found) if answer.status_code in (200, 201) else {}
        if isinstance(ticket, dict) and {"token", "status", "service", "number"} <= ticket.keys():
            status[ticket["token"]] = (ticket["status"], ticket["service"])
        return answer

    def transfer(ticket: dict[str, str]) -> None:
        others = [s for s in SERVICES if s != ticket["service"]]
        post(f"/tickets/{ticket['token']}/transfer", {"service": rng.choice(others)})

    def tickets_in(*wanted: str) -> list[dict[str, str]]:
        return [{"token": t, "service": service} for t, (now, service) in status.items() if now in wanted]

    def check() -> None:
        # Time passing moves no screen by itself: a visitor taking a ticket now tells every
        # linked queue (counters 1 and 2 serve them all), so both sides see the same instant.
        assert post("/tickets", {"service": "A"}, headers={}).status_code == 201
        for screen in [*phones, *boards]:
            screen.hear()
        for phone in phones:
            api = client.get(f"/api/v1/tickets/{phone.token}").get_json()
            assert phone.shown == {k: api[k] for k in ("status", "position", "estimated_wait_s")}, phone.token
            compared.append(api["status"])
        display = client.get("/api/v1/display").get_json()
        for board in boards:
            assert board.shown == display

    for counter_id in COUNTERS:
        post(f"/counters/{counter_id}/open")
    for step in range(OPERATIONS):
        roll = rng.random()
        if roll < 0.34:
            body: dict[str, Any] = {"service": rng.choice(SERVICES)}
            answer = post("/tickets", body, headers={})
            if answer.status_code == 201 and len(phones) < PHONES and rng.random() < 0.06:
                phones.append(Phone(app, client, answer.get_json()["token"]))
        elif roll < 0.54:
            counter_id = rng.choice(COUNTERS)
            active = post(f"/counters/{counter_id}/call-next")
            if active.status_code == 200 and rng.random() < 0.5:
                post(f"/tickets/{active.get_json()['ticket']['token']}/start")
        elif roll < 0.72:
            busy = tickets_in("called", "serving")
            if busy:
                ticket = rng.choice(busy)
                kind = rng.random()
                if kind < 0.7:
                    post(f"/tickets/{ticket['token']}/finish", {"outcome": "resolved"})
                elif kind < 0.8:
                    post(f"/tickets/{ticket['token']}/recall")
                elif kind < 0.9:
                    transfer(ticket)
                else:
                    post(f"/tickets/{ticket['token']}/no-show")
        elif roll < 0.86:
            waiting = tickets_in("waiting")
            if waiting:
                ticket = rng.choice(waiting)
                kind = rng.random()
                if kind < 0.4:
                    post(f"/tickets/{ticket['token']}/cancel", headers={})
                elif kind < 0.7:
                    transfer(ticket)
                else:
                    post(f"/tickets/{ticket['token']}/priority")
        elif roll < 0.93:
            counter_id = rng.choice(COUNTERS)
            if counter_id in paused:
                post(f"/counters/{counter_id}/resume")
                paused.discard(counter_id)
            elif len(paused) < 2 and post(f"/counters/{counter_id}/pause").status_code == 200:
                paused.add(counter_id)
        else:
            clock.advance(seconds=rng.randint(5, 240))
        if (step + 1) % CHECK_EVERY == 0:
            check()
    check()

    # The day went through every kind of change, and the phones were compared waiting (with a
    # place that moved) as well as after their ticket's end.
    assert answers.get(201, 0) > 400 and answers.get(200, 0) > 800, answers
    assert len(phones) == PHONES
    assert compared.count("waiting") >= 20 and {"done", "cancelled"} <= set(compared), compared
