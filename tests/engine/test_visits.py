"""Closing a visit (its record, complaints) and the visitor's rating of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from queue_engine import VisitRecord, call_next, finish_visit, issue_ticket, rate_visit, start_service
from queue_engine.core.errors import (
    AlreadyRated,
    InvalidFields,
    InvalidInput,
    InvalidTransition,
    RatingClosed,
)
from queue_engine.core.kinds import Category
from queue_engine.core.lookups import service_by_code
from queue_engine.core.models import Complaint, Ticket, Visit
from queue_engine.quality.ratings import Rating
from queue_engine.reporting.reports import daily_summary

from .helpers import event_count, events_of, ticket_row


@pytest.fixture
def served(session, clock, make_service, make_counter, make_user):
    """Factory: a ticket of a service, called at counter 1, optionally started, then finished."""
    make_service("A")
    make_service("Q", category=Category.COMPLAINT)
    counters = {}
    clerk = make_user("clerk1")

    def serve(code: str = "A", *, start: bool = True, record: VisitRecord | None = None) -> Ticket:
        if code not in counters:
            counters[code] = make_counter(f"for {code}", [service_by_code(session, code)])
        ticket = issue_ticket(session, clock, code)
        session.commit()
        clock.advance(minutes=4)
        call_next(session, clock, counters[code].id, clerk.id)
        session.commit()
        if start:
            clock.advance(minutes=1)
            start_service(session, clock, ticket.token, staff_id=clerk.id)
            session.commit()
        clock.advance(minutes=6)
        finish_visit(session, clock, ticket.token, record or VisitRecord("resolved"), staff_id=clerk.id)
        session.commit()
        return ticket

    return serve


def test_finishing_from_called_counts_the_visit_from_the_call(session, clock, served):
    ticket = served(start=False)
    row = ticket_row(session, ticket.id)
    assert row["started_at"] == row["called_at"]
    assert row["finished_at"] - row["called_at"] == timedelta(minutes=6)
    assert events_of(session, ticket.id)[-1].data == {"outcome": "resolved", "implicit_start": True}
    summary = daily_summary(session, clock, clock.today())
    assert summary["totals"]["service_time"]["mean_s"] == 360.0
    assert summary["totals"]["wait"]["mean_s"] == 240.0


def test_finishing_from_serving_counts_the_visit_from_the_start(session, clock, served):
    ticket = served(start=True)
    row = ticket_row(session, ticket.id)
    assert row["started_at"] - row["called_at"] == timedelta(minutes=1)
    assert row["finished_at"] - row["started_at"] == timedelta(minutes=6)
    assert events_of(session, ticket.id)[-1].data == {"outcome": "resolved", "implicit_start": False}
    assert daily_summary(session, clock, clock.today())["totals"]["service_time"]["mean_s"] == 360.0


def test_the_visit_record_is_kept_with_the_ticket(session, clock, served):
    record = VisitRecord(
        "follow_up", customer_name="  Li Wei ", contact="138 0000 0000", description="lost card", notes=" n "
    )
    ticket = served(record=record)
    visit = session.scalars(select(Visit).where(Visit.ticket_id == ticket.id)).one()
    assert (visit.outcome, visit.customer_name, visit.contact, visit.description, visit.notes) == (
        "follow_up",
        "Li Wei",
        "138 0000 0000",
        "lost card",
        "n",
    )
    assert visit.finished_at == clock.now()
    assert visit.rating is None


@pytest.mark.parametrize(
    "record",
    [
        VisitRecord("fixed"),
        VisitRecord("resolved", customer_name="x" * 129),
        VisitRecord("resolved", description="x" * 4001),
        VisitRecord("resolved", complaint_priority="whenever"),
    ],
    ids=["unknown-outcome", "long-name", "long-description", "unknown-priority"],
)
def test_an_unusable_visit_record_is_refused(session, clock, make_service, make_counter, record):
    a = make_service("A")
    counter = make_counter("1", [a])
    ticket = issue_ticket(session, clock, "A")
    call_next(session, clock, counter.id)
    session.commit()
    before, events = ticket_row(session, ticket.id), event_count(session)
    with pytest.raises(InvalidInput):
        finish_visit(session, clock, ticket.token, record)
    session.rollback()
    assert ticket_row(session, ticket.id) == before
    assert event_count(session) == events
    assert session.scalars(select(Visit)).first() is None


def test_a_complaint_service_visit_opens_a_complaint(session, clock, served):
    due = date(2026, 1, 12)
    ticket = served(
        "Q",
        record=VisitRecord(
            "referred", complaint_department=" Housing ", complaint_priority="high", complaint_due=due
        ),
    )
    other = served("A")
    complaint = session.scalars(select(Complaint)).one()
    assert complaint.visit.ticket_id == ticket.id
    assert (complaint.status, complaint.department, complaint.priority, complaint.due_date) == (
        "open",
        "Housing",
        "high",
        due,
    )
    assert complaint.created_at == ticket_row(session, ticket.id)["finished_at"]
    assert other.visit is not None and other.visit.complaint is None


@pytest.mark.parametrize("department", [None, "", "   "])
def test_a_complaint_service_visit_needs_its_responsible_department(
    session, clock, make_service, make_counter, department
):
    """Whoever closes the visit (form, API, simulation): refused, naming the field, nothing changed."""
    q = make_service("Q", category=Category.COMPLAINT)
    counter = make_counter("1", [q])
    ticket = issue_ticket(session, clock, "Q")
    call_next(session, clock, counter.id)
    session.commit()
    before, events = ticket_row(session, ticket.id), event_count(session)
    with pytest.raises(InvalidFields) as refused:
        finish_visit(session, clock, ticket.token, VisitRecord("resolved", complaint_department=department))
    session.rollback()
    assert refused.value.field == "department" and "责任部门" in refused.value.errors["department"]
    assert ticket_row(session, ticket.id) == before
    assert event_count(session) == events
    assert session.scalars(select(Complaint)).first() is None


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({}, ["outcome"]),
        ({"outcome": "great"}, ["outcome"]),
        ({"outcome": "resolved", "customer_name": "x" * 129}, ["customer_name"]),
        ({"outcome": "resolved", "contact": 12}, ["contact"]),
        ({"outcome": "resolved", "notes": "a\x00b"}, ["notes"]),
        ({"outcome": "resolved", "description": "x" * 4001, "priority": "soon"}, ["description", "priority"]),
        ({"outcome": "resolved", "department": "x" * 129}, ["department"]),
        ({"outcome": "resolved", "due_date": "tomorrow"}, ["due_date"]),
        ({"outcome": "fixed", "department": ""}, ["outcome", "department"]),
    ],
)
def test_the_record_names_every_field_it_refuses(values, fields):
    with pytest.raises(InvalidFields) as refused:
        VisitRecord.parse({"department": "Housing", **values}, complaint_service=True)
    assert list(refused.value.errors) == fields
    assert refused.value.message.startswith(f"{fields[0]}: ")
    assert all(" / " in message for message in refused.value.errors.values())  # English / 中文


def test_the_record_is_read_from_raw_values():
    record = VisitRecord.parse(
        {"outcome": "referred", "department": " Housing ", "priority": "", "due_date": "2026-01-12"},
        complaint_service=True,
    )
    assert record == VisitRecord(
        "referred",
        complaint_department="Housing",
        complaint_priority="normal",
        complaint_due=date(2026, 1, 12),
    )


def test_naming_a_department_opens_a_complaint_at_any_service(session, clock, served):
    ticket = served("A", record=VisitRecord("referred", complaint_department="Water"))
    assert session.scalars(select(Complaint)).one().visit.ticket_id == ticket.id


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_a_finished_visit_is_rated_once(session, clock, served, score):
    ticket = served()
    clock.advance(hours=2)
    rate_visit(session, clock, ticket.token, score, comment="  fine  ", attitude=5)
    session.commit()
    visit = session.scalars(select(Visit)).one()
    assert (visit.rating, visit.rating_attitude, visit.rating_efficiency, visit.rating_comment) == (
        score,
        5,
        None,
        "fine",
    )
    assert visit.rated_at == clock.now()

    events = event_count(session)
    with pytest.raises(AlreadyRated):
        rate_visit(session, clock, ticket.token, 1 if score != 1 else 5)
    session.rollback()
    session.expire_all()
    assert session.scalars(select(Visit)).one().rating == score
    assert event_count(session) == events


@pytest.mark.parametrize("score", [0, 6, -1, 3.5, "5", True, None])
def test_a_rating_is_a_whole_number_from_one_to_five(session, clock, served, score):
    ticket = served()
    with pytest.raises(InvalidInput):
        rate_visit(session, clock, ticket.token, score)
    session.rollback()
    assert session.scalars(select(Visit)).one().rating is None


@pytest.mark.parametrize("field", ["efficiency", "level", "attitude"])
def test_the_dimension_scores_are_checked_too(session, clock, served, field):
    ticket = served()
    with pytest.raises(InvalidInput):
        rate_visit(session, clock, ticket.token, 5, **{field: 9})
    session.rollback()


def test_a_long_comment_is_refused(session, clock, served):
    ticket = served()
    with pytest.raises(InvalidInput):
        rate_visit(session, clock, ticket.token, 4, comment="x" * 1001)
    session.rollback()
    rate_visit(session, clock, ticket.token, 4, comment="x" * 1000)
    session.commit()


@pytest.mark.parametrize(
    ("after", "allowed"),
    [
        (timedelta(days=6, hours=23), True),
        (timedelta(days=7), True),
        (timedelta(days=7, minutes=1), False),
        (timedelta(days=30), False),
    ],
    ids=["6d23h", "7d", "7d1m", "30d"],
)
def test_a_visit_can_be_rated_for_seven_days(session, clock, served, after, allowed):
    ticket = served()
    clock.advance(seconds=after.total_seconds())
    if allowed:
        rate_visit(session, clock, ticket.token, 4)
        session.commit()
        assert session.scalars(select(Visit)).one().rating == 4
        return
    events = event_count(session)
    with pytest.raises(RatingClosed):
        rate_visit(session, clock, ticket.token, 4)
    session.rollback()
    assert session.scalars(select(Visit)).one().rating is None
    assert event_count(session) == events


def test_a_visit_still_waiting_cannot_be_rated(session, clock, make_service):
    make_service("A")
    ticket = issue_ticket(session, clock, "A")
    session.commit()
    with pytest.raises(InvalidTransition):
        rate_visit(session, clock, ticket.token, 5)
    session.rollback()


def test_ratings_reach_the_daily_summary(session, clock, served):
    first, second, _third = served(), served(), served()
    rate_visit(session, clock, first.token, 5)
    rate_visit(session, clock, second.token, 2)
    session.commit()
    satisfaction = daily_summary(session, clock, clock.today())["totals"]["satisfaction"]
    assert satisfaction["ratings"] == 2
    assert satisfaction["mean"] == 3.5
    assert satisfaction["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert satisfaction["response_rate"] == round(2 / 3, 3)


@pytest.mark.parametrize(
    ("values", "text", "expected"),
    [
        ({"score": 5}, False, Rating(5)),
        ({"score": 2, "attitude": 1, "comment": "  slow  "}, False, Rating(2, attitude=1, comment="slow")),
        ({"score": "4", "efficiency": "", "level": "3", "comment": ""}, True, Rating(4, level=3)),
        ({"score": "x" * 3, "comment": "c" * 1000}, True, ["score"]),
        ({"score": "5"}, False, ["score"]),  # JSON sends numbers
        ({"score": True}, False, ["score"]),
        ({"score": 4.5}, False, ["score"]),
        ({}, False, ["score"]),
        ({"score": "", "comment": "c" * 1001}, True, ["score", "comment"]),
        ({"score": 5, "level": 0, "attitude": 6}, False, ["level", "attitude"]),
        ({"score": 5, "comment": 5}, False, ["comment"]),
        ({"score": 5, "comment": "good\x00"}, False, ["comment"]),
    ],
)
def test_one_parser_reads_every_rating(values, text, expected):
    """The phone page, the tablet and the API all read a rating through Rating.parse."""
    if isinstance(expected, Rating):
        assert Rating.parse(values, text=text) == expected
        return
    with pytest.raises(InvalidFields) as refused:
        Rating.parse(values, text=text)
    assert list(refused.value.errors) == expected
