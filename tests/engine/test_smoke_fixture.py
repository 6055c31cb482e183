from queue_engine import call_next, issue_ticket


def test_first_ticket_is_001_and_is_called_first(session, clock, make_service, make_counter):
    service = make_service("A")
    counter = make_counter("1", [service])
    first = issue_ticket(session, clock, "A")
    session.commit()
    clock.advance(seconds=1)
    issue_ticket(session, clock, "A")
    session.commit()
    called = call_next(session, clock, counter.id)
    session.commit()
    assert first.number == "A001"
    assert called.number == "A001"
