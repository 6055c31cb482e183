"""The command line of DESIGN §7/§8: init-db, seed-demo, create-user, issue-token, close-day."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, select

import kiosk.cli.commands
import kiosk.cli.seed
from kiosk import create_app
from kiosk.extensions import db
from queue_engine.core.models import Counter, Service, User

from .conftest import quick_hash
from .helpers import all_rows

DEMO_USERS = ["admin", "supervisor", "clerk1", "clerk2", "clerk3", "clerk4"]


@pytest.fixture
def logins_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where seed-demo keeps the demo logins, here (never the real instance/ folder)."""
    path = tmp_path / "instance" / "demo-logins.txt"
    monkeypatch.setattr(kiosk.cli.commands, "logins_file", lambda: path)
    monkeypatch.setattr(kiosk.cli.seed, "hash_password", quick_hash)  # six demo users per seed
    monkeypatch.delenv("QMS_DEMO_PASSWORD", raising=False)
    return path


@pytest.fixture
def bare_app(tmp_path: Path, clock) -> Iterator[Flask]:
    """An app on an empty database: no tables, no demo hall."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bare.sqlite3'}",
            "QMS_CLOCK": clock,
            "QMS_TICKET_RATE_LIMIT": "0",
        }
    )
    yield application
    with application.app_context():
        db.engine.dispose()


def printed_logins(output: str) -> dict[str, str]:
    """username -> password from seed-demo's output (the lines after its heading)."""
    _, _, listing = output.partition("Demo logins")
    logins = {}
    for line in listing.splitlines()[1:]:
        parts = line.split()
        if len(parts) == 2:
            logins[parts[0]] = parts[1]
    return logins


def logs_in(app: Flask, username: str, password: str) -> bool:
    """Whether the staff login form accepts these credentials."""
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = browser.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    return answer.status_code == 302


def test_init_db_creates_the_tables_and_keeps_data(bare_app):
    runner = bare_app.test_cli_runner()

    result = runner.invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert "Database ready (schema revision " in result.output
    with bare_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "tickets",
            "services",
            "counters",
            "users",
            "ticket_events",
            "visits",
            "alembic_version",
        } <= tables
        db.session.add(Service(code="Q", prefix="Q", names={"en": "Q"}))
        db.session.commit()
    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0, again.output
    assert "Upgraded" not in again.output, "the second run has nothing to do"
    with bare_app.app_context():
        assert db.session.scalars(select(Service.code)).all() == ["Q"]


def test_seed_demo_builds_the_demo_hall(bare_app, logins_file):
    result = bare_app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    client = bare_app.test_client()
    codes = [s["code"] for s in client.get("/api/v1/services").get_json()]
    assert codes[0] == "A"
    assert sorted(codes) == ["A", "B", "C", "D"]

    logins = printed_logins(result.output)
    assert sorted(logins) == sorted(DEMO_USERS)
    assert len(set(logins.values())) == len(DEMO_USERS), "each demo user has a password of their own"
    for username, password in logins.items():
        assert logs_in(bare_app, username, password), username
        assert not logs_in(bare_app, username, password + "x"), username
    assert logins_file.stat().st_mode & 0o077 == 0, "the logins file is for its owner only"

    token = bare_app.test_cli_runner().invoke(args=["issue-token", "supervisor"]).output.splitlines()[-1]
    counters = client.get("/api/v1/counters", headers={"Authorization": f"Bearer {token}"}).get_json()
    served = {c["id"]: set(c["services"]) for c in counters}
    assert sorted(served) == [1, 2, 3, 4]
    assert served[1] == served[2] == {"A", "B", "C", "D"}
    for counter_id in (3, 4):
        assert served[counter_id] and served[counter_id] < {"A", "B", "C", "D"}
    with bare_app.app_context():
        roles = {name: role for name, role in db.session.execute(select(User.username, User.role))}
    assert {name: roles[name] for name in ("admin", "supervisor")} == {
        "admin": "admin",
        "supervisor": "supervisor",
    }
    assert {roles[f"clerk{n}"] for n in range(1, 5)} == {"clerk"}


def test_every_demo_clerk_may_work_at_every_demo_counter(bare_app, logins_file):
    runner = bare_app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    client = bare_app.test_client()

    for n in range(1, 5):
        token = runner.invoke(args=["issue-token", f"clerk{n}"]).output.splitlines()[-1]
        counters = client.get("/api/v1/counters", headers={"Authorization": f"Bearer {token}"})
        assert [c["id"] for c in counters.get_json()] == [1, 2, 3, 4], f"clerk{n}"


def test_seed_demo_twice_changes_nothing(bare_app, logins_file):
    runner = bare_app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    before = all_rows(bare_app)

    second = runner.invoke(args=["seed-demo"])

    assert second.exit_code == 0, second.output
    assert all_rows(bare_app) == before
    assert printed_logins(second.output) == printed_logins(first.output)


def test_seed_demo_leaves_a_hall_as_its_admin_changed_it(bare_app, logins_file):
    runner = bare_app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    with bare_app.app_context():
        db.session.scalars(select(Service).where(Service.code == "A")).one().names = {"en": "Passports"}
        db.session.delete(db.session.get(Counter, 4))
        db.session.delete(db.session.scalars(select(User).where(User.username == "clerk4")).one())
        db.session.commit()
    before = all_rows(bare_app)

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert (
        "already holds a hall (4 services, 3 counters, 5 users): seed-demo changed nothing" in result.output
    )
    assert all_rows(bare_app) == before
    services = bare_app.test_client().get("/api/v1/services").get_json()
    assert [s["names"]["en"] for s in services if s["code"] == "A"] == ["Passports"]


def test_seed_demo_adds_nothing_to_a_hall_that_has_only_its_first_user(bare_app, logins_file):
    runner = bare_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    made = runner.invoke(
        args=["create-user", "chief", "--role", "admin"], env={"QMS_NEW_USER_PASSWORD": "head-of-hall-1"}
    )
    assert made.exit_code == 0, made.output

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "seed-demo changed nothing" in result.output
    assert bare_app.test_client().get("/api/v1/services").get_json() == []
    with bare_app.app_context():
        assert db.session.scalars(select(User.username)).all() == ["chief"]
    assert not logins_file.exists(), "no demo logins were made"


def test_after_a_database_reset_the_printed_passwords_are_the_new_ones(tmp_path, clock, logins_file):
    def fresh_hall(name: str) -> tuple[Flask, dict[str, str]]:
        application = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / name}",
                "QMS_CLOCK": clock,
            }
        )
        output = application.test_cli_runner().invoke(args=["seed-demo"]).output
        return application, printed_logins(output)

    old_app, _ = fresh_hall("before-reset.sqlite3")
    new_app, printed = fresh_hall("after-reset.sqlite3")

    try:
        assert sorted(printed) == sorted(DEMO_USERS)
        for username, password in printed.items():
            assert logs_in(new_app, username, password), username
        listed = [line.split()[0] for line in logins_file.read_text().splitlines() if line.strip()]
        assert sorted(listed) == sorted(DEMO_USERS), "one line per user in the logins file"
    finally:
        for application in (old_app, new_app):
            with application.app_context():
                db.engine.dispose()


def test_seed_demo_with_one_password(bare_app, logins_file):
    result = bare_app.test_cli_runner().invoke(args=["seed-demo", "--password", "one-for-all-9"])

    assert result.exit_code == 0, result.output
    assert set(printed_logins(result.output).values()) == {"one-for-all-9"}
    assert logs_in(bare_app, "clerk3", "one-for-all-9")


def test_create_user_with_the_password_from_the_environment(app, client, runner):
    result = runner.invoke(
        args=["create-user", "sup2", "--role", "supervisor"], env={"QMS_NEW_USER_PASSWORD": "from-env-123"}
    )

    assert result.exit_code == 0, result.output
    assert logs_in(app, "sup2", "from-env-123")
    token = runner.invoke(args=["issue-token", "sup2"]).output.splitlines()[-1]
    stats = client.get("/api/v1/stats/daily", headers={"Authorization": f"Bearer {token}"})
    assert stats.status_code == 200


def test_create_user_asks_for_the_password(app, runner, monkeypatch):
    monkeypatch.delenv("QMS_NEW_USER_PASSWORD", raising=False)

    result = runner.invoke(
        args=["create-user", "typed", "--role", "clerk", "--counters", "2,4"],
        input="keyed-in-pass-1\nkeyed-in-pass-1\n",
    )

    assert result.exit_code == 0, result.output
    assert "keyed-in-pass-1" not in result.output, "the password is not echoed"
    assert logs_in(app, "typed", "keyed-in-pass-1")
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == "typed")).one()
        assert (user.role, sorted(c.id for c in user.counters)) == ("clerk", [2, 4])


@pytest.mark.parametrize(
    ("args", "password"),
    [
        (["create-user", "x1", "--role", "janitor"], "long-enough-1"),
        (["create-user", "x2"], "long-enough-1"),
        (["create-user", "x3", "--role", "clerk"], "short"),
        (["create-user", "clerk1", "--role", "clerk"], "long-enough-1"),
    ],
    ids=["unknown-role", "no-role", "short-password", "existing-user"],
)
def test_create_user_refusals_create_nobody(app, runner, args, password):
    before = all_rows(app)

    result = runner.invoke(args=args, env={"QMS_NEW_USER_PASSWORD": password})

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception  # a refusal, not a crash
    assert all_rows(app) == before


def test_issue_token_prints_a_working_token_as_its_last_line(client, runner, take_ticket):
    take_ticket("A")

    result = runner.invoke(args=["issue-token", "clerk2"])

    assert result.exit_code == 0, result.output
    token = result.output.splitlines()[-1]
    response = client.post("/api/v1/counters/2/call-next", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["ticket"]["counter"]["id"] == 2


def test_issue_token_for_nobody(runner):
    result = runner.invoke(args=["issue-token", "ghost"])

    assert result.exit_code == 1
    assert "ghost" in result.output
    assert isinstance(result.exception, SystemExit)


def test_close_day_expires_what_yesterday_left_open(client, runner, take_ticket, call_next, clock):
    waiting = take_ticket("A")
    take_ticket("A")
    call_next(1)
    clock.advance(days=1)
    today = take_ticket("A")

    result = runner.invoke(args=["close-day"])

    assert result.exit_code == 0, result.output
    assert "Expired 2 ticket(s)" in result.output
    assert client.get(f"/api/v1/tickets/{waiting['token']}").get_json()["status"] == "expired"
    assert client.get(f"/api/v1/tickets/{today['token']}").get_json()["status"] == "waiting"
    assert call_next(1).get_json()["ticket"]["token"] == today["token"], "counter 1 is free again"
    assert "Expired 0 ticket(s)" in runner.invoke(args=["close-day"]).output


def test_close_day_with_a_date(client, runner, take_ticket, clock):
    ticket = take_ticket("B")

    early = runner.invoke(args=["close-day", "--date", "2026-01-04"])
    assert "Expired 0 ticket(s)" in early.output
    result = runner.invoke(args=["close-day", "--date", clock.today().isoformat()])

    assert "Expired 1 ticket(s)" in result.output
    assert client.get(f"/api/v1/tickets/{ticket['token']}").get_json()["status"] == "expired"


def test_close_day_refuses_a_bad_date(app, runner, take_ticket):
    take_ticket("A")
    before = all_rows(app)

    result = runner.invoke(args=["close-day", "--date", "yesterday"])

    assert result.exit_code == 2
    assert "--date" in result.output
    assert all_rows(app) == before


def test_random_demo_passwords_are_changed_at_the_first_log_in(bare_app, logins_file):
    random_logins = printed_logins(bare_app.test_cli_runner().invoke(args=["seed-demo"]).output)
    browser = bare_app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = browser.post(
        "/login", data={"username": "clerk1", "password": random_logins["clerk1"], "csrf_token": csrf}
    )
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/password")
    assert browser.get("/counter").headers["Location"].startswith("/password")


def test_a_demo_password_given_on_purpose_is_kept(bare_app, logins_file):
    bare_app.test_cli_runner().invoke(args=["seed-demo", "--password", "one-for-all-9"])
    browser = bare_app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = browser.post(
        "/login", data={"username": "clerk1", "password": "one-for-all-9", "csrf_token": csrf}
    )
    assert answer.headers["Location"] == "/counter"
