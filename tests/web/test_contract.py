"""DESIGN §7, route by route: status codes, the fields of each answer, and a whole visit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from kiosk.extensions import db
from queue_engine.core.models import Visit
from queue_engine.queue.tickets import issue_ticket

from .helpers import error_of

SERVICE_FIELDS = {"code", "prefix", "name", "waiting", "estimated_wait_s"}
TICKET_FIELDS = {
    "token",
    "number",
    "service",
    "status",
    "position",
    "estimated_wait_s",
    "counter",
    "issued_at",
}
STATUSES = {"waiting", "called", "serving", "done", "no_show", "cancelled", "expired"}


def assert_ticket(ticket: dict) -> dict:
    """Check a ticket answer carries every contract field with the right kind of value."""
    assert TICKET_FIELDS <= set(ticket), TICKET_FIELDS - set(ticket)
    assert isinstance(ticket["token"], str) and len(ticket["token"]) >= 16
    assert isinstance(ticket["number"], str) and ticket["number"]
    assert isinstance(ticket["service"], str)
    assert ticket["status"] in STATUSES
    if ticket["status"] == "waiting":
        assert isinstance(ticket["position"], int) and ticket["position"] >= 1
        assert isinstance(ticket["estimated_wait_s"], int) and ticket["estimated_wait_s"] >= 0
    else:
        assert ticket["position"] is None
    if ticket["counter"] is not None:
        assert isinstance(ticket["counter"]["id"], int)
        assert isinstance(ticket["counter"]["name"], str)
    assert datetime.fromisoformat(ticket["issued_at"]).tzinfo is not None
    return ticket


def test_services_list_the_demo_services_with_counts_and_estimates(client, take_ticket):
    before = {s["code"]: s for s in client.get("/api/v1/services").get_json()}
    take_ticket("A")
    take_ticket("A")
    take_ticket("C")

    response = client.get("/api/v1/services")

    assert response.status_code == 200
    services = response.get_json()
    assert [s["code"] for s in services][:1] == ["A"]
    assert {"A", "B", "C", "D"} <= {s["code"] for s in services}
    for service in services:
        assert SERVICE_FIELDS <= set(service)
        assert isinstance(service["name"], str) and service["name"]
        assert isinstance(service["prefix"], str) and service["prefix"]
        assert isinstance(service["estimated_wait_s"], int) and service["estimated_wait_s"] >= 0
    by_code = {s["code"]: s for s in services}
    assert {code: by_code[code]["waiting"] for code in "ABCD"} == {"A": 2, "B": 0, "C": 1, "D": 0}
    assert by_code["A"]["estimated_wait_s"] > before["A"]["estimated_wait_s"]
    assert by_code["A"]["estimated_wait_s"] > by_code["B"]["estimated_wait_s"]


def test_the_kiosk_estimate_is_the_estimate_the_new_ticket_gets(client, take_ticket):
    take_ticket("A")
    promised = {s["code"]: s for s in client.get("/api/v1/services").get_json()}["A"]

    ticket = take_ticket("A")

    assert ticket["estimated_wait_s"] == promised["estimated_wait_s"]


def test_service_names_follow_the_language_asked_for(client):
    zh = {s["code"]: s["name"] for s in client.get("/api/v1/services?lang=zh").get_json()}
    en = {s["code"]: s["name"] for s in client.get("/api/v1/services?lang=en").get_json()}
    assert zh["A"] != en["A"]


def test_taking_a_ticket_answers_201_with_the_ticket(client, clock):
    response = client.post("/api/v1/tickets", json={"service": "A"})

    assert response.status_code == 201
    ticket = assert_ticket(response.get_json())
    assert ticket["number"] == "A001"
    assert ticket["service"] == "A"
    assert ticket["status"] == "waiting"
    assert ticket["position"] == 1
    assert ticket["counter"] is None
    assert datetime.fromisoformat(ticket["issued_at"]) == clock.now()


def test_numbers_run_per_service_and_positions_follow_arrival(take_ticket):
    a1, a2, b1, a3 = take_ticket("A"), take_ticket("A"), take_ticket("B"), take_ticket("A")

    assert [a1["number"], a2["number"], a3["number"]] == ["A001", "A002", "A003"]
    assert b1["number"] == "B001"
    assert [a1["position"], a2["position"], a3["position"], b1["position"]] == [1, 2, 3, 1]
    assert len({a1["token"], a2["token"], b1["token"], a3["token"]}) == 4


def test_the_ticket_holder_sees_the_same_ticket(client, take_ticket):
    taken = take_ticket("B", lang="en")

    response = client.get(f"/api/v1/tickets/{taken['token']}")

    assert response.status_code == 200
    seen = assert_ticket(response.get_json())
    assert {k: seen[k] for k in TICKET_FIELDS} == {k: taken[k] for k in TICKET_FIELDS}
    assert seen["lang"] == "en"


def test_display_shape_when_the_hall_is_empty(client):
    response = client.get("/api/v1/display")

    assert response.status_code == 200
    board = response.get_json()
    assert board["now_serving"] == []
    assert board["recent"] == []
    assert {"A", "B", "C", "D"} <= set(board["waiting"])
    assert all(n == 0 for n in board["waiting"].values())


def test_display_shows_the_call_and_the_waiting_counts(client, take_ticket, call_next):
    first = take_ticket("A")
    take_ticket("A")
    take_ticket("D")
    called = call_next(2).get_json()["ticket"]

    board = client.get("/api/v1/display").get_json()

    assert board["waiting"]["A"] == 1
    assert board["waiting"]["D"] == 1
    assert board["waiting"]["B"] == 0
    assert [(c["number"], c["counter"]) for c in board["now_serving"]] == [
        (first["number"], called["counter"]["name"])
    ]
    assert [c["number"] for c in board["recent"]] == [first["number"]]


def test_call_next_answers_204_when_nobody_waits(call_next):
    response = call_next(1)

    assert response.status_code == 204
    assert response.get_data() == b""


def test_call_next_calls_the_earliest_ticket(take_ticket, call_next, clock):
    first = take_ticket("B")
    clock.advance(minutes=1)
    take_ticket("A")

    response = call_next(1)

    assert response.status_code == 200
    called = assert_ticket(response.get_json()["ticket"])
    assert called["token"] == first["token"]
    assert called["status"] == "called"
    assert called["counter"]["id"] == 1


def test_call_next_answers_409_while_the_counter_holds_a_ticket(client, take_ticket, call_next):
    take_ticket("A")
    second = take_ticket("A")
    assert call_next(1).status_code == 200

    response = call_next(1)

    assert response.status_code == 409
    assert error_of(response)["code"] == "counter_busy"
    still = client.get(f"/api/v1/tickets/{second['token']}").get_json()
    assert (still["status"], still["position"]) == ("waiting", 1)


def test_a_whole_visit(app, client, auth, take_ticket, call_next, clock):
    clerk = auth("clerk1")
    ticket = take_ticket("A")
    token = ticket["token"]

    called = call_next(1).get_json()["ticket"]
    assert (called["token"], called["status"], called["call_count"]) == (token, "called", 1)

    clock.advance(seconds=30)
    recalled = client.post(f"/api/v1/tickets/{token}/recall", headers=clerk)
    assert recalled.status_code == 200
    assert assert_ticket(recalled.get_json())["status"] == "called"
    assert recalled.get_json()["call_count"] == 2

    clock.advance(seconds=30)
    started = client.post(f"/api/v1/tickets/{token}/start", headers=clerk)
    assert started.status_code == 200
    assert assert_ticket(started.get_json())["status"] == "serving"
    assert started.get_json()["counter"]["id"] == 1

    early_rating = client.post(f"/api/v1/tickets/{token}/rating", json={"score": 5})
    assert early_rating.status_code == 409

    clock.advance(minutes=5)
    record = {
        "outcome": "resolved",
        "customer_name": "Li Lei",
        "contact": "138 0000 0000",
        "description": "Asked about the residence permit",
        "notes": "Came with all papers",
    }
    finished = client.post(f"/api/v1/tickets/{token}/finish", json=record, headers=clerk)
    assert finished.status_code == 200
    done = assert_ticket(finished.get_json())
    assert done["status"] == "done"
    assert done["number"] == ticket["number"]
    assert datetime.fromisoformat(done["finished_at"]) == clock.now()
    with app.app_context():
        visit = db.session.scalars(select(Visit)).one()
        assert (visit.outcome, visit.customer_name, visit.contact) == (
            "resolved",
            "Li Lei",
            "138 0000 0000",
        )
        assert visit.description == record["description"] and visit.notes == record["notes"]
        assert visit.counter_id == 1

    rated = client.post(f"/api/v1/tickets/{token}/rating", json={"score": 4, "comment": "quick"})
    assert rated.status_code == 201
    again = client.post(f"/api/v1/tickets/{token}/rating", json={"score": 1})
    assert again.status_code == 409
    assert error_of(again)["code"] == "already_rated"

    with app.app_context():
        visit = db.session.scalars(select(Visit)).one()
        assert (visit.rating, visit.rating_comment) == (4, "quick")
    assert client.get(f"/api/v1/tickets/{token}").get_json()["rated"] is True
    assert call_next(1).status_code == 204  # the counter is free again


def test_transfer_keeps_the_number_and_the_place(client, auth, take_ticket, call_next, clock):
    visitor = take_ticket("A")
    clock.advance(minutes=2)
    waiting_b = take_ticket("B")
    call_next(1)

    response = client.post(
        f"/api/v1/tickets/{visitor['token']}/transfer", json={"service": "B"}, headers=auth("clerk1")
    )

    assert response.status_code == 200
    moved = assert_ticket(response.get_json())
    assert (moved["number"], moved["service"], moved["status"]) == (visitor["number"], "B", "waiting")
    assert moved["transferred_from"] == "A"
    assert moved["position"] == 1
    assert client.get(f"/api/v1/tickets/{waiting_b['token']}").get_json()["position"] == 2
    services = {s["code"]: s["waiting"] for s in client.get("/api/v1/services").get_json()}
    assert (services["A"], services["B"]) == (0, 2)
    # Counter 3 serves A and B: the transferred visitor, who came first, is called first.
    recalled_elsewhere = call_next(3).get_json()["ticket"]
    assert (recalled_elsewhere["token"], recalled_elsewhere["number"]) == (
        visitor["token"],
        visitor["number"],
    )
    assert recalled_elsewhere["counter"]["id"] == 3


def test_no_show_frees_the_counter(client, auth, take_ticket, call_next):
    missed = take_ticket("A")
    nxt = take_ticket("A")
    call_next(1)

    response = client.post(f"/api/v1/tickets/{missed['token']}/no-show", headers=auth("clerk1"))

    assert response.status_code == 200
    assert assert_ticket(response.get_json())["status"] == "no_show"
    assert call_next(1).get_json()["ticket"]["token"] == nxt["token"]


def test_the_holder_cancels_a_waiting_ticket_once(client, take_ticket, call_next):
    ticket = take_ticket("C")

    response = client.post(f"/api/v1/tickets/{ticket['token']}/cancel")

    assert response.status_code == 200
    assert assert_ticket(response.get_json())["status"] == "cancelled"
    assert client.get(f"/api/v1/tickets/{ticket['token']}").get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/tickets/{ticket['token']}/cancel")
    assert again.status_code == 409
    error_of(again)
    assert call_next(4).status_code == 204


def test_daily_stats_for_a_supervisor(client, auth, take_ticket, call_next, clock):
    ticket = take_ticket("A")
    take_ticket("B")
    call_next(1)
    clerk = auth("clerk1")
    client.post(f"/api/v1/tickets/{ticket['token']}/start", headers=clerk)
    clock.advance(minutes=4)
    client.post(f"/api/v1/tickets/{ticket['token']}/finish", json={"outcome": "resolved"}, headers=clerk)
    client.post(f"/api/v1/tickets/{ticket['token']}/rating", json={"score": 5})

    today = client.get("/api/v1/stats/daily", headers=auth("supervisor"))
    other = client.get("/api/v1/stats/daily?date=2025-12-31", headers=auth("supervisor"))

    assert today.status_code == 200
    summary = today.get_json()
    assert summary["date"] == clock.today().isoformat()
    assert (summary["totals"]["issued"], summary["totals"]["served"]) == (2, 1)
    assert summary["totals"]["satisfaction"]["mean"] == 5
    assert [s["username"] for s in summary["staff"]] == ["clerk1"]
    assert other.status_code == 200
    assert other.get_json()["date"] == "2025-12-31"
    assert other.get_json()["totals"]["issued"] == 0


def test_the_issue_answer_is_the_ticket_page_right_after(app, client, take_ticket, call_next, clock):
    # A few hundred waiting over the demo's shared counters, the first ones at counters already:
    # the answer reuses the estimate made at issue, so it must be the page's, field for field.
    with app.app_context():
        session = db.session()
        for n in range(300):
            issue_ticket(session, clock, "ABCD"[n % 4], priority=n % 17 == 0)
        session.commit()
    for counter_id in (1, 2, 3):
        assert call_next(counter_id).status_code == 200
    clock.advance(minutes=3)

    for service, priority in [("A", False), ("C", False), ("B", True), ("D", False)]:
        taken = take_ticket(service, priority=priority)
        shown = client.get(f"/api/v1/tickets/{taken['token']}").get_json()

        assert taken == shown
        assert taken["estimated_wait_s"] > 0
    assert taken["position"] > 50
