"""The visit record's rules hold for the API as for the counter's form (one rule: VisitRecord)."""

from __future__ import annotations

import pytest

from tests.web.helpers import all_rows, error_of


@pytest.mark.parametrize("department", [None, "", "  "])
def test_a_complaint_finished_through_the_api_needs_its_department(
    app, client, auth, call_next, take_ticket, department
):
    ticket = take_ticket("C")
    assert call_next(1).status_code == 200
    record = {"outcome": "resolved", "description": "投诉窗口态度"}
    if department is not None:
        record["department"] = department
    before = all_rows(app)
    refused = client.post(f"/api/v1/tickets/{ticket['token']}/finish", json=record, headers=auth("clerk1"))
    assert refused.status_code == 422
    error = error_of(refused)
    assert error["code"] == "invalid_input" and error["message"].startswith("department: ")
    assert all_rows(app) == before
    done = client.post(
        f"/api/v1/tickets/{ticket['token']}/finish",
        json={**record, "department": "督查科"},
        headers=auth("clerk1"),
    )
    assert done.status_code == 200 and done.get_json()["status"] == "done"


def test_the_api_and_the_form_refuse_the_same_lengths(app, client, auth, call_next, take_ticket):
    """129 characters of a name: the API names the field, as the form does."""
    ticket = take_ticket("A")
    assert call_next(1).status_code == 200
    refused = client.post(
        f"/api/v1/tickets/{ticket['token']}/finish",
        json={"outcome": "resolved", "customer_name": "x" * 129},
        headers=auth("clerk1"),
    )
    assert refused.status_code == 422 and error_of(refused)["message"].startswith("customer_name: ")
