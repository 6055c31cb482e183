"""Ticket numbers: A001, A002 ... per service, restarting each business day in the hall's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError

from queue_engine import VisitRecord, call_next, cancel, finish_visit, issue_ticket, transfer
from queue_engine.core.models import Ticket

from .helpers import ticket_row


def _issue(session, clock, code: str) -> Ticket:
    ticket = issue_ticket(session, clock, code)
    session.commit()
    return ticket


def test_numbers_run_from_one_with_three_digits(session, clock, make_service):
    make_service("A")
    numbers = []
    for _ in range(12):
        numbers.append(_issue(session, clock, "A").number)
        clock.advance(seconds=30)
    assert numbers == [f"A{n:03d}" for n in range(1, 13)]
    assert numbers[:3] == ["A001", "A002", "A003"]


def test_prefix_is_the_services_not_its_code(session, clock, make_service):
    make_service("TAX", prefix="T")
    assert [_issue(session, clock, "TAX").number for _ in range(2)] == ["T001", "T002"]


def test_two_services_number_independently(session, clock, make_service):
    make_service("A")
    make_service("B")
    order = ["A", "B", "B", "A", "B", "A", "A"]
    numbers = [_issue(session, clock, code).number for code in order]
    assert numbers == ["A001", "B001", "B002", "A002", "B003", "A003", "A004"]


def test_start_number_is_honoured_and_numbers_grow_past_999(session, clock, make_service):
    make_service("A", start_number=998)
    make_service("B", start_number=101)
    assert [_issue(session, clock, "A").number for _ in range(3)] == ["A998", "A999", "A1000"]
    assert [_issue(session, clock, "B").number for _ in range(2)] == ["B101", "B102"]


def test_numbers_restart_at_local_midnight_not_utc_midnight(session, clock, make_service):
    """15:59 UTC is 23:59 in Shanghai; 16:01 UTC (the same UTC date) is already the next day."""
    make_service("A", start_number=5)
    clock.set(datetime(2026, 1, 5, 15, 59, tzinfo=UTC))
    late = [_issue(session, clock, "A") for _ in range(2)]
    clock.set(datetime(2026, 1, 5, 16, 1, tzinfo=UTC))
    early = [_issue(session, clock, "A") for _ in range(2)]
    # Next morning in the hall (00:00 UTC is 08:00 in Shanghai): the same business day goes on.
    clock.set(datetime(2026, 1, 6, 1, 0, tzinfo=UTC))
    morning = _issue(session, clock, "A")

    assert [(t.number, t.business_date) for t in late] == [
        ("A005", date(2026, 1, 5)),
        ("A006", date(2026, 1, 5)),
    ]
    assert [(t.number, t.business_date) for t in early] == [
        ("A005", date(2026, 1, 6)),
        ("A006", date(2026, 1, 6)),
    ]
    assert (morning.number, morning.business_date) == ("A007", date(2026, 1, 6))


def test_numbers_follow_the_clocks_timezone(session, clock, make_service):
    """The same instant belongs to another business day in a hall west of Greenwich."""
    make_service("A")
    clock.set(datetime(2026, 1, 5, 16, 1, tzinfo=UTC))  # Shanghai: 6 Jan 00:01
    shanghai = _issue(session, clock, "A")
    clock.tz = ZoneInfo("America/New_York")  # New York: 5 Jan 11:01
    new_york = _issue(session, clock, "A")
    assert (shanghai.business_date, shanghai.number) == (date(2026, 1, 6), "A001")
    assert (new_york.business_date, new_york.number) == (date(2026, 1, 5), "A001")


def test_a_number_is_never_given_back(session, clock, make_service, make_counter):
    """Cancelled, finished and transferred tickets keep their numbers; the next one moves on."""
    a, b = make_service("A"), make_service("B")
    counter = make_counter("1", [a, b])
    first = _issue(session, clock, "A")
    cancel(session, clock, first.token)
    session.commit()
    second = _issue(session, clock, "A")
    call_next(session, clock, counter.id)
    transfer(session, clock, second.token, "B")
    session.commit()
    call_next(session, clock, counter.id)
    finish_visit(session, clock, second.token, VisitRecord("resolved"))
    session.commit()

    assert _issue(session, clock, "A").number == "A003"
    # The transferred ticket kept A002 and did not take one of B's numbers.
    assert ticket_row(session, second.id)["number"] == "A002"
    assert _issue(session, clock, "B").number == "B001"


def test_the_database_refuses_a_number_given_twice(session, clock, make_service):
    make_service("A")
    first = _issue(session, clock, "A")
    twin = Ticket(
        token="twin-token",
        service_id=first.service_id,
        issued_service_id=first.issued_service_id,
        business_date=first.business_date,
        sequence=first.sequence,
        number=first.number,
        issued_at=clock.now(),
    )
    session.add(twin)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
