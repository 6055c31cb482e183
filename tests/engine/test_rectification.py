"""Bad ratings open rectification cases; the case's due date and its state machine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from queue_engine import VisitRecord, call_next, finish_visit, issue_ticket, rate_visit
from queue_engine.core.errors import InvalidInput, InvalidTransition
from queue_engine.core.models import AuditEntry, Hall, RectificationCase, Service
from queue_engine.hall.calendar import add_working_days, hall_settings
from queue_engine.quality.rectification import (
    CASE_FLOW,
    assign_case,
    close_case,
    is_overdue,
    record_follow_up_call,
    record_rectification,
    rectified_on_time,
)


@pytest.mark.parametrize(
    ("start", "closed", "expected"),
    [
        # Monday + 15 working days = three whole weeks later, a Monday.
        (date(2026, 1, 5), [], date(2026, 1, 26)),
        # Friday: the weekend right after is skipped.
        (date(2026, 1, 9), [], date(2026, 1, 30)),
        # Saturday counts from the next Monday.
        (date(2026, 1, 10), [], date(2026, 1, 30)),
        # Two closed weekdays push the date by two working days.
        (date(2026, 1, 5), ["2026-01-07", "2026-01-20"], date(2026, 1, 28)),
        # A closed date on a weekend changes nothing.
        (date(2026, 1, 5), ["2026-01-10"], date(2026, 1, 26)),
    ],
)
def test_the_due_date_counts_working_days(start, closed, expected):
    """A hall without opening hours: Monday to Friday, less its closed dates."""
    assert add_working_days(Hall(opening_hours={}, closed_dates=closed), start, 15) == expected


@pytest.fixture
def rated(session, clock, make_service, make_counter, make_user):
    """Finish one visit and return a function that rates it."""
    service = make_service("A")
    counter = make_counter("1", [service])
    make_user("boss", role="supervisor")
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    call_next(session, clock, counter.id)
    finish_visit(session, clock, ticket.token, VisitRecord(outcome="resolved"))
    session.commit()

    def rate(score, **extra):
        rate_visit(session, clock, ticket.token, score, **extra)
        session.commit()
        return session.query(RectificationCase).one_or_none()

    return rate


@pytest.mark.parametrize(("score", "opens"), [(1, True), (2, True), (3, False), (4, False), (5, False)])
def test_only_dissatisfied_ratings_open_a_case(rated, score, opens):
    case = rated(score, comment="等太久")
    assert (case is not None) is opens


def test_a_case_opened_on_a_monday_is_due_three_weeks_later_minus_closed_dates(session, clock, rated):
    hall_settings(session).closed_dates = ["2026-01-14"]
    session.commit()
    case = rated(1)
    assert case.status == "open"
    assert case.due_date == date(2026, 1, 27)


WEEKDAY_HOURS = {str(d): [["08:30", "17:00"]] for d in range(5)}
SATURDAYS_TOO = {**WEEKDAY_HOURS, "5": [["09:00", "12:00"]]}


@pytest.mark.parametrize(
    ("hours", "closed", "extra", "due"),
    [
        # Monday to Friday: three whole weeks after Monday 5 January.
        (WEEKDAY_HOURS, [], [], date(2026, 1, 26)),
        # Open on Saturdays: six working days a week.
        (SATURDAYS_TOO, [], [], date(2026, 1, 22)),
        # A holiday on Wednesday 7 January: one working day later.
        (WEEKDAY_HOURS, ["2026-01-07"], [], date(2026, 1, 27)),
        # 调休: Sunday 11 January is worked, so the case is due one working day earlier.
        (WEEKDAY_HOURS, [], ["2026-01-11"], date(2026, 1, 23)),
        # Both: the holiday and the Sunday worked in its place cancel out.
        (WEEKDAY_HOURS, ["2026-01-07"], ["2026-01-11"], date(2026, 1, 26)),
    ],
    ids=["weekdays", "saturdays", "holiday", "tiaoxiu-sunday", "holiday-and-tiaoxiu"],
)
def test_the_due_date_follows_the_halls_calendar(configure_hall, rated, hours, closed, extra, due):
    configure_hall(opening_hours=hours, closed_dates=closed, extra_working_dates=extra)
    assert rated(1).due_date == due


def test_the_whole_life_of_a_case(session, clock, rated, make_user):
    case = rated(2, comment="态度差", attitude=1)
    clerk = make_user("fixer")
    with pytest.raises(InvalidTransition):
        record_rectification(session, clock, case.id, "x", "y")  # nobody assigned yet
    session.rollback()
    assign_case(session, clock, case.id, clerk.id)
    session.commit()
    with pytest.raises(InvalidInput):
        record_rectification(session, clock, case.id, "", "培训")
    session.rollback()
    record_rectification(session, clock, case.id, "窗口人员解释不清", "已开展服务礼仪培训")
    session.commit()
    with pytest.raises(InvalidInput):
        record_follow_up_call(session, clock, case.id, reached=False, re_rating=4)
    session.rollback()
    record_follow_up_call(session, clock, case.id, reached=True, view="表示理解", re_rating=4)
    close_case(session, clock, case.id)
    session.commit()
    assert (case.status, case.assignee_id, case.re_rating) == ("closed", clerk.id, 4)
    assert rectified_on_time(case, clock)


ORDER = list(CASE_FLOW)


@pytest.mark.parametrize("target", ORDER)
@pytest.mark.parametrize("start", ORDER)
def test_illegal_moves_are_refused(session, clock, rated, make_user, start, target):
    case = rated(1)
    helper = make_user("helper")
    case.status = start
    session.commit()
    steps = {
        "assigned": lambda: assign_case(session, clock, case.id, helper.id),
        "rectified": lambda: record_rectification(session, clock, case.id, "f", "m"),
        "followed_up": lambda: record_follow_up_call(session, clock, case.id, reached=False),
        "closed": lambda: close_case(session, clock, case.id),
    }
    if target == "open":
        return  # nothing moves a case back to open
    if target in CASE_FLOW[start]:
        steps[target]()
        session.commit()
        assert case.status == target
    else:
        with pytest.raises(InvalidTransition):
            steps[target]()
        session.rollback()
        assert session.get(RectificationCase, case.id).status == start


def test_overdue_until_rectified(session, clock, rated, make_user):
    case = rated(1)
    assert not is_overdue(case, case.due_date)
    late = date.fromordinal(case.due_date.toordinal() + 1)
    assert is_overdue(case, late)
    assign_case(session, clock, case.id, make_user("late").id)
    clock.set(datetime(late.year, late.month, late.day, 2, 0, tzinfo=UTC))
    record_rectification(session, clock, case.id, "f", "m")
    assert not is_overdue(case, late)
    assert not rectified_on_time(case, clock)


def test_the_quality_figures_count_each_case_by_its_outcome(
    session, clock, make_service, make_counter, make_user
):
    from queue_engine.quality.figures import rectification_figures

    make_service("A")
    counter = make_counter("1", [session.query(Service).one()])
    fixer = make_user("fixer")
    day = clock.today()
    cases = []
    for _ in range(5):
        ticket = issue_ticket(session, clock, "A")
        session.commit()
        call_next(session, clock, counter.id)
        finish_visit(session, clock, ticket.token, VisitRecord(outcome="resolved"))
        rate_visit(session, clock, ticket.token, 1)
        session.commit()
        cases.append(session.query(RectificationCase).order_by(RectificationCase.id.desc()).first())
    due = cases[0].due_date
    for case in cases[:3] + cases[4:]:
        assign_case(session, clock, case.id, fixer.id)
    record_rectification(session, clock, cases[0].id, "f", "m")  # on time, reached on the call
    record_follow_up_call(session, clock, cases[0].id, reached=True, view="好", re_rating=5)
    record_rectification(session, clock, cases[1].id, "f", "m")  # on time, not reached
    record_follow_up_call(session, clock, cases[1].id, reached=False)
    session.commit()
    clock.set(datetime(due.year, due.month, due.day, 4, 0, tzinfo=UTC) + timedelta(days=3))
    record_rectification(session, clock, cases[4].id, "f", "m")  # late
    session.commit()
    # cases[2] (assigned) and cases[3] (open) are now past due and not rectified.
    figures = rectification_figures(session, clock, day, day)
    assert figures == {
        "cases": 5,
        "rectified": 3,
        "rectified_on_time": 2,
        "on_time_rate": round(2 / (3 + 2), 3),
        "overdue": 2,
        "followed_up": 2,
        "follow_up_rate": round(2 / 3, 3),
        "reached": 1,
        "reply_rate": 0.5,
    }
    assert rectification_figures(session, clock, day, day, counter_id=counter.id + 1)["cases"] == 0


def test_the_ranking_leaves_out_small_samples_and_orders_by_satisfaction():
    from queue_engine.quality.figures import ranking

    def row(name, ratings, rate, mean):
        return {"name": name, "satisfaction": {"ratings": ratings, "satisfaction_rate": rate, "mean": mean}}

    rows = [
        row("few", 3, 1.0, 5.0),
        row("good", 12, 0.9, 4.6),
        row("best", 10, 0.95, 4.5),
        row("tie", 20, 0.9, 4.6),
    ]
    ranked = ranking(rows, min_ratings=10)
    assert [(r["rank"], r["name"]) for r in ranked] == [(1, "best"), (2, "tie"), (3, "good")]
    assert [r["name"] for r in ranking(rows, min_ratings=1)][0] == "few"


def test_every_step_of_a_case_is_audited_by_the_engine(session, clock, rated, make_user):
    case = rated(1)
    boss, clerk = make_user("chief", role="supervisor"), make_user("fixer")
    assign_case(session, clock, case.id, clerk.id, actor_id=boss.id)
    record_rectification(session, clock, case.id, "解释不清", "已培训", actor_id=clerk.id)
    record_follow_up_call(session, clock, case.id, reached=True, view="满意", re_rating=4, actor_id=clerk.id)
    close_case(session, clock, case.id, actor_id=boss.id)
    session.commit()

    rows = session.query(AuditEntry).order_by(AuditEntry.id).all()
    assert [(r.action, r.user_id) for r in rows] == [
        ("assign_rectification", boss.id),
        ("rectify", clerk.id),
        ("follow_up_call", clerk.id),
        ("close_rectification", boss.id),
    ]
    assert {r.target for r in rows} == {f"rectification:{case.id}"}
    assert [(r.before["status"], r.after["status"]) for r in rows] == [
        ("open", "assigned"),
        ("assigned", "rectified"),
        ("rectified", "followed_up"),
        ("followed_up", "closed"),
    ]
