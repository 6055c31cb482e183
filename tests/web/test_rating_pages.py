"""Rating a visit on the phone and at the counter's tablet: one parser (Rating.parse) for all."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kiosk.extensions import db
from queue_engine.core.models import Visit
from tests.web.staff_login import log_in, page_csrf


@pytest.fixture
def finished(client, auth, call_next, take_ticket):
    """A visit at counter 1, finished: its ticket's JSON, in the language it was taken in."""

    def finish(lang: str) -> dict:
        ticket = take_ticket("A", lang=lang)
        assert call_next(1).status_code == 200
        done = client.post(
            f"/api/v1/tickets/{ticket['token']}/finish", json={"outcome": "resolved"}, headers=auth("clerk1")
        )
        assert done.status_code == 200
        return ticket

    return finish


def _ratings(app) -> list[tuple]:
    with app.app_context():
        return list(db.session.execute(select(Visit.rating, Visit.rating_comment)))


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "Your comment is longer than 1000 characters. Please shorten it and send again."),
        ("zh", "评价内容超过 1000 个字，请删减后重新提交。"),
    ],
)
def test_a_too_long_comment_on_the_phone_is_refused_with_a_message(app, client, finished, lang, message):
    ticket = finished(lang)
    page = f"/t/{ticket['token']}"
    headers = {"X-CSRFToken": page_csrf(client, page), "HX-Request": "true"}
    comment = "很好" * 500 + "!"  # 1001 characters: it used to be cut to 1000 and stored
    refused = client.post(f"{page}/rating", data={"score": "4", "comment": comment}, headers=headers)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert message in html
    assert comment in html  # what was typed comes back, to be shortened
    assert _ratings(app) == [(None, None)]
    accepted = client.post(f"{page}/rating", data={"score": "4", "comment": comment[:-1]}, headers=headers)
    assert accepted.status_code == 200
    assert _ratings(app) == [(4, comment[:-1])]


def test_the_phone_asks_for_a_face_when_none_was_chosen(app, client, finished):
    ticket = finished("en")
    page = f"/t/{ticket['token']}"
    headers = {"X-CSRFToken": page_csrf(client, page), "HX-Request": "true"}
    refused = client.post(f"{page}/rating", data={"score": "", "comment": "ok"}, headers=headers)
    assert refused.status_code == 422
    assert "Please choose one of the five faces." in refused.get_data(as_text=True)
    assert _ratings(app) == [(None, None)]


def _tablet(app, counter: int = 1) -> str:
    """Register a rating tablet for a counter from the command line; its address."""
    result = app.test_cli_runner().invoke(args=["register-tablet", "Tablet", "--counter", str(counter)])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_the_tablet_refuses_what_the_phone_and_the_api_refuse(app, finished):
    ticket = finished("zh")
    address = _tablet(app)
    tablet = app.test_client()  # nobody logged in: the tablet is judged by its own token
    assert tablet.get(address).status_code == 200
    post = f"/api/v1/tablets/{address.rsplit('/', 1)[-1]}/rating"
    refused = tablet.post(post, json={"ticket": ticket["token"], "score": 5, "comment": "x" * 1001})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["message"].startswith("comment: ")
    assert _ratings(app) == [(None, None)]
    rated = tablet.post(post, json={"ticket": ticket["token"], "score": 5, "attitude": 4})
    assert rated.status_code == 201
    assert _ratings(app) == [(5, None)]


def test_a_logged_in_clerk_cannot_rate_the_visit_on_the_phone_page(app, client, finished):
    ticket = finished("zh")
    log_in(client, "clerk1")
    page = f"/t/{ticket['token']}"
    headers = {"X-CSRFToken": page_csrf(client, page), "HX-Request": "true"}

    refused = client.post(f"{page}/rating", data={"score": "5"}, headers=headers)

    assert refused.status_code == 403
    assert "工作人员不能代为评价" in refused.get_data(as_text=True)
    assert _ratings(app) == [(None, None)]
