"""Bookings (DESIGN §10): slots from the hall's hours, capacity, one booking a day, no-shows,
check-in inside the window, and the place a booked ticket takes in the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_engine import (
    VisitRecord,
    book,
    call_next,
    cancel_booking,
    check_in,
    finish_visit,
    issue_ticket,
    open_counter,
)
from queue_engine.booking import BookingSettings, BookingState, booking_by_code, day_slots, mark_missed
from queue_engine.booking.bookings import CODE_ALPHABET
from queue_engine.core.errors import (
    AlreadyBooked,
    AlreadyCheckedIn,
    BookingBlocked,
    BookingClosed,
    InvalidFields,
    SlotFull,
    TooEarly,
    TooLate,
)
from queue_engine.core.kinds import PriorityPolicy, Source
from tests.engine.test_concurrency import run_threads

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 1, 5).date()
HOURS = {str(d): [["09:00", "12:00"], ["13:30", "17:00"]] for d in range(5)}  # Monday-Friday


def at(hhmm: str, day: int = 0) -> datetime:
    """A moment of Monday 5 January 2026 (or ``day`` days later), hall time, as UTC."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    local = datetime(2026, 1, 5 + day, hours, minutes, tzinfo=SHANGHAI)
    return local.astimezone(UTC)


@pytest.fixture
def bookable(session, make_service, configure_hall):
    """Service A, bookable: 30-minute slots, 2 places, check-in 30 min before to 15 min after."""
    configure_hall(opening_hours=HOURS)
    service = make_service("A")
    session.add(BookingSettings(service_id=service.id, bookable=True, slot_minutes=30, capacity=2))
    session.commit()
    return service


def _book(session, clock, start, phone="13812345678", name="张三", code="A"):
    booking = book(session, clock, code, start, name=name, phone=phone)
    session.commit()
    return booking


def test_slots_follow_the_opening_hours_and_leave_out_the_lunch_break(session, clock, bookable):
    slots = day_slots(session, clock, bookable, MONDAY)

    starts = [s.starts_at for s in slots]
    assert len(slots) == 6 + 7  # 09:00-12:00 and 13:30-17:00 in half hours
    assert starts[0] == at("09:00") and starts[5] == at("11:30") and starts[6] == at("13:30")
    assert all(s.capacity == 2 and s.left == 2 for s in slots)


def test_a_closed_date_has_no_slots_and_a_hall_without_hours_has_them_around_the_clock(
    session, clock, bookable, configure_hall
):
    configure_hall(closed_dates=["2026-01-06"])
    assert day_slots(session, clock, bookable, MONDAY + timedelta(days=1)) == []

    configure_hall(opening_hours={}, closed_dates=[])
    assert len(day_slots(session, clock, bookable, MONDAY)) == 48


def test_a_slot_takes_its_capacity_and_no_more_and_a_cancellation_frees_a_place(session, clock, bookable):
    first = _book(session, clock, at("10:00"), phone="13800000001")
    _book(session, clock, at("10:00"), phone="13800000002")

    with pytest.raises(SlotFull):
        _book(session, clock, at("10:00"), phone="13800000003")
    session.rollback()
    cancel_booking(session, clock, first, reason="visitor phoned")
    session.commit()
    third = _book(session, clock, at("10:00"), phone="13800000003")

    assert third.state == BookingState.BOOKED
    slot = next(s for s in day_slots(session, clock, bookable, MONDAY) if s.starts_at == at("10:00"))
    assert (slot.booked, slot.left) == (2, 0)


def test_one_active_booking_per_number_service_and_day(session, clock, bookable):
    first = _book(session, clock, at("10:00"))

    with pytest.raises(AlreadyBooked):
        _book(session, clock, at("14:00"), phone="+86 138-1234-5678")
    session.rollback()
    tuesday = _book(session, clock, at("10:00", day=1))
    cancel_booking(session, clock, first)
    session.commit()
    again = _book(session, clock, at("14:00"))

    assert tuesday.state == again.state == BookingState.BOOKED
    assert again.phone == "13812345678"


@pytest.mark.parametrize(
    ("start", "why"),
    [
        (at("09:20"), "past its cut-off"),  # the clock stands at 09:00; cut-off 30 min
        (at("10:00", day=8), "too far ahead"),  # 7 days ahead by default
        (at("10:10"), "not a slot's start"),
        (at("12:30"), "the lunch break"),
    ],
)
def test_a_slot_that_cannot_be_booked_is_refused(session, clock, bookable, start, why):
    with pytest.raises(BookingClosed):
        book(session, clock, "A", start, name="张三", phone="13812345678")


def test_a_service_that_takes_no_bookings_refuses_them(session, clock, make_service, configure_hall):
    configure_hall(opening_hours=HOURS)
    make_service("B")
    with pytest.raises(BookingClosed, match="takes no bookings"):
        book(session, clock, "B", at("10:00"), name="张三", phone="13812345678")


@pytest.mark.parametrize(
    ("phone", "field"), [("12345", "phone"), ("+86 12345678901", "phone"), ("", "phone")]
)
def test_a_bad_mobile_number_is_refused_by_field(session, clock, bookable, phone, field):
    with pytest.raises(InvalidFields) as refused:
        book(session, clock, "A", at("10:00"), name="张三", phone=phone)
    assert refused.value.field == field


def test_booking_codes_are_short_and_unambiguous(session, clock, bookable):
    codes = [_book(session, clock, at(f"{h}:00"), phone=f"138000000{h}").code for h in (10, 11, 14, 15)]

    assert all(len(c) == 6 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("".join(codes)) & set("0O1I")
    assert booking_by_code(session, codes[0].lower()[:3] + "-" + codes[0][3:]).code == codes[0]


def test_three_missed_bookings_block_the_number_with_the_date_it_may_book_again(session, clock, bookable):
    for day in range(3):
        _book(session, clock, at("09:30", day=day))
    clock.set(at("09:50", day=2))  # past the third window (09:30 + 15 min)
    assert mark_missed(session, clock) == 3
    session.commit()

    with pytest.raises(BookingBlocked, match="2026-02-06"):
        book(session, clock, "A", at("10:00", day=3), name="张三", phone="13812345678")
    session.rollback()
    session.get(BookingSettings, bookable.id).noshow_limit = 0
    session.commit()
    assert _book(session, clock, at("10:00", day=3)).state == BookingState.BOOKED


def test_check_in_opens_30_minutes_before_the_slot_and_gives_a_booked_number(session, clock, bookable):
    booking = _book(session, clock, at("10:30"))

    with pytest.raises(TooEarly, match="opens at 10:00"):
        check_in(session, clock, booking)
    clock.set(at("10:05"))
    ticket = check_in(session, clock, booking)
    session.commit()

    assert (ticket.number, ticket.source, ticket.queued_at) == ("YA001", Source.APPOINTMENT, at("10:30"))
    assert booking.state == BookingState.CHECKED_IN
    with pytest.raises(AlreadyCheckedIn) as again:  # a second scan names the ticket it got
        check_in(session, clock, booking)
    assert again.value.details["ticket"].id == ticket.id
    walk_in = issue_ticket(session, clock, "A")
    assert walk_in.number == "A001"  # the series count on their own


def test_a_booking_not_checked_in_when_its_window_ends_is_missed(session, clock, bookable):
    booking = _book(session, clock, at("10:00"))
    clock.set(at("10:16"))

    with pytest.raises(TooLate, match="closed at 10:15"):
        check_in(session, clock, booking)
    session.rollback()
    assert mark_missed(session, clock) == 1
    assert booking.state == BookingState.MISSED


# -- the queue: a booked ticket joins at its slot's start (DESIGN §10) --------------------------

# Each case: what happens when (hall time), then the order counter 1 calls them in.
# "W<n>@t" a walk-in issued at t, "P<n>@t" a priority walk-in, "Y@t" the 10:00 booking checked in at t.
ORDER_CASES = [
    ("early check-in waits for the slot", "strict", ["W1@09:45", "Y@09:40", "W2@10:05"], ["W1", "Y", "W2"]),
    (
        "late check-in goes ahead of later walk-ins",
        "strict",
        ["W1@09:55", "W2@10:05", "Y@10:10"],
        ["W1", "Y", "W2"],
    ),
    ("on time", "strict", ["Y@10:00", "W1@10:01"], ["Y", "W1"]),
    (
        "priority first still comes first",
        "priority_first",
        ["W1@09:50", "Y@09:55", "P1@10:07"],
        ["P1", "W1", "Y"],
    ),
    ("strict ignores priority", "strict", ["Y@09:55", "P1@10:07"], ["Y", "P1"]),
]


@pytest.mark.parametrize(
    ("case", "policy", "arrivals", "called"), ORDER_CASES, ids=[c[0] for c in ORDER_CASES]
)
def test_call_order_of_walk_ins_and_a_booking(
    session, clock, bookable, make_counter, configure_hall, case, policy, arrivals, called
):
    configure_hall(priority_policy=PriorityPolicy(policy))
    counter = make_counter("1", [bookable])
    clock.set(at("08:00"))
    booking = _book(session, clock, at("10:00"))
    names = {}
    for arrival in sorted(arrivals, key=lambda a: a.split("@")[1]):
        name, moment = arrival.split("@")
        clock.set(at(moment))
        if name == "Y":
            ticket = check_in(session, clock, booking)
        else:
            ticket = issue_ticket(session, clock, "A", priority=name.startswith("P"))
        session.commit()
        names[ticket.id] = name
    clock.set(at("10:20"))
    open_counter(session, clock, counter.id, None)
    order = []
    for _ in arrivals:
        ticket = call_next(session, clock, counter.id)
        order.append(names[ticket.id])
        finish_visit(session, clock, ticket.token, VisitRecord("resolved"))
        session.commit()

    assert order == called


# -- capacity under concurrency ------------------------------------------------------------------


@pytest.mark.slow
def test_200_visitors_booking_one_slot_of_4_at_once_get_4_bookings_and_196_slot_full(
    session, session_factory, clock, bookable
):
    settings = session.get(BookingSettings, bookable.id)
    settings.capacity = 4
    session.commit()
    outcomes: list[str] = []

    def visitor(i: int) -> None:
        with session_factory() as own:
            try:
                book(own, clock, "A", at("10:00"), name=f"访客{i}", phone=f"139{i:08d}")
                own.commit()
                outcomes.append("booked")
            except SlotFull:
                own.rollback()
                outcomes.append("slot_full")

    run_threads(200, visitor)

    assert sorted(set(outcomes)) == ["booked", "slot_full"]
    assert (outcomes.count("booked"), outcomes.count("slot_full")) == (4, 196)
    slot = next(s for s in day_slots(session, clock, bookable, MONDAY) if s.starts_at == at("10:00"))
    assert (slot.booked, slot.left) == (4, 0)


@pytest.mark.slow
def test_one_number_booking_twice_at_once_gets_one_booking(session, session_factory, clock, bookable):
    outcomes: list[str] = []

    def twin(i: int) -> None:
        with session_factory() as own:
            try:
                book(own, clock, "A", at("10:00" if i % 2 else "14:00"), name="张三", phone="13812345678")
                own.commit()
                outcomes.append("booked")
            except AlreadyBooked:
                own.rollback()
                outcomes.append("already_booked")

    run_threads(8, twin)

    assert sorted(outcomes) == ["already_booked"] * 7 + ["booked"]


# -- after booking: find it again, move it, and the personal data's end ---------------------------


def test_a_booking_is_found_again_with_its_phone_and_code_and_one_answer_for_any_mismatch(
    session, clock, bookable
):
    from queue_engine.booking import find_booking
    from queue_engine.core.errors import UnknownBooking

    booking = _book(session, clock, at("10:00"))

    assert find_booking(session, "+86 138 1234 5678", booking.code.lower()).id == booking.id
    with pytest.raises(UnknownBooking) as wrong_phone:
        find_booking(session, "13900000000", booking.code)
    with pytest.raises(UnknownBooking) as wrong_code:
        find_booking(session, "13812345678", "ZZZZZZ")
    assert wrong_phone.value.message == wrong_code.value.message


def test_moving_a_booking_takes_a_place_in_the_new_slot_and_frees_the_old(session, clock, bookable):
    from queue_engine.booking import reschedule

    booking = _book(session, clock, at("10:00"))
    _book(session, clock, at("11:00"), phone="13800000001")
    _book(session, clock, at("11:00"), phone="13800000002")

    with pytest.raises(SlotFull):
        reschedule(session, clock, booking, at("11:00"))
    session.rollback()
    reschedule(session, clock, booking, at("14:00", day=1))
    session.commit()

    places = {s.starts_at: s.booked for s in day_slots(session, clock, bookable, MONDAY)}
    tomorrow = {
        s.starts_at: s.booked for s in day_slots(session, clock, bookable, MONDAY + timedelta(days=1))
    }
    assert (places[at("10:00")], tomorrow[at("14:00", day=1)]) == (0, 1)
    assert (booking.slot_start, booking.business_date) == (at("14:00", day=1), MONDAY + timedelta(days=1))
    assert booking_by_code(session, booking.code).id == booking.id  # its code and link stay


def test_personal_data_is_erased_after_the_retention_period_and_the_figures_stay(session, clock, bookable):
    from queue_engine.hall.retention import erase_old_personal_data

    booking = _book(session, clock, at("09:30"))
    clock.set(at("09:35"))
    ticket = check_in(session, clock, booking)
    session.commit()
    clock.advance(days=181)

    assert erase_old_personal_data(session, clock, 0) == 0  # 0 keeps them
    assert erase_old_personal_data(session, clock, 180) == 1
    session.commit()
    session.refresh(booking)
    assert (booking.name, booking.phone) == ("", "")
    assert booking.state == BookingState.CHECKED_IN and booking.ticket_id == ticket.id
    assert erase_old_personal_data(session, clock, 180) == 0  # nothing twice


def test_the_visitor_cancels_until_the_slot_starts_and_staff_later_with_a_reason(session, clock, bookable):
    from queue_engine.core.errors import InvalidTransition

    booking = _book(session, clock, at("10:00"))
    clock.set(at("10:00"))

    with pytest.raises(InvalidTransition, match="slot has begun"):
        cancel_booking(session, clock, booking)
    with pytest.raises(InvalidFields):
        cancel_booking(session, clock, booking, staff_id=1, reason=" ")
    cancel_booking(session, clock, booking, staff_id=1, reason="来电取消")
    session.commit()

    assert (booking.state, booking.cancel_reason) == (BookingState.CANCELLED, "来电取消")
