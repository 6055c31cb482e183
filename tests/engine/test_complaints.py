"""Complaints move open -> investigating -> resolved -> closed, and nothing else."""

from __future__ import annotations

from datetime import date

import pytest

from queue_engine import VisitRecord, call_next, finish_visit, issue_ticket
from queue_engine.core.errors import InvalidInput, InvalidTransition
from queue_engine.core.kinds import Category
from queue_engine.core.models import AuditEntry, Complaint
from queue_engine.quality.complaints import COMPLAINT_FLOW, is_overdue, update_complaint
from queue_engine.quality.followups import mark_follow_up_done, open_complaints, open_follow_ups

STATUSES = list(COMPLAINT_FLOW)
LEGAL = {(a, b) for a, targets in COMPLAINT_FLOW.items() for b in targets}


@pytest.fixture
def complaint(session, clock, make_service, make_counter):
    service = make_service("C", category=Category.COMPLAINT)
    counter = make_counter("4", [service])
    ticket = issue_ticket(session, clock, "C")
    session.commit()
    call_next(session, clock, counter.id)
    finish_visit(
        session,
        clock,
        ticket.token,
        VisitRecord(outcome="resolved", complaint_department="督查科", complaint_due=date(2026, 1, 9)),
    )
    session.commit()
    return session.query(Complaint).one()


def put_in(session, complaint, status):
    complaint.status = status
    complaint.resolution = "已整改" if status in ("resolved", "closed") else complaint.resolution
    complaint.follow_up_result = "已回访" if status == "closed" else complaint.follow_up_result
    session.commit()


@pytest.mark.parametrize("target", STATUSES)
@pytest.mark.parametrize("start", STATUSES)
def test_every_move_of_the_state_machine(session, clock, complaint, start, target):
    put_in(session, complaint, start)
    if start == target:
        update_complaint(session, clock, complaint.id, status=target)
        assert complaint.status == start
        return
    fields = {"resolution": "处理完毕", "follow_up_result": "群众满意"}
    if (start, target) in LEGAL:
        update_complaint(session, clock, complaint.id, status=target, **fields)
        session.commit()
        assert complaint.status == target
    else:
        with pytest.raises(InvalidTransition):
            update_complaint(session, clock, complaint.id, status=target, **fields)
        session.rollback()
        assert session.get(Complaint, complaint.id).status == start


def test_resolving_needs_a_resolution_and_closing_needs_the_follow_up_call(session, clock, complaint):
    with pytest.raises(InvalidInput):
        update_complaint(session, clock, complaint.id, status="resolved")
    session.rollback()
    update_complaint(session, clock, complaint.id, status="resolved", resolution="已电话解释")
    session.commit()
    with pytest.raises(InvalidInput):
        update_complaint(session, clock, complaint.id, status="closed")
    session.rollback()
    update_complaint(session, clock, complaint.id, status="closed", follow_up_result="回访：满意")
    session.commit()
    assert complaint.status == "closed"


def test_overdue_means_past_due_and_still_open(session, clock, complaint):
    assert not is_overdue(complaint, date(2026, 1, 9))
    assert is_overdue(complaint, date(2026, 1, 10))
    update_complaint(session, clock, complaint.id, status="resolved", resolution="完成")
    assert not is_overdue(complaint, date(2026, 1, 10))


def test_the_counter_lists_its_open_complaints_and_follow_ups(session, clock, complaint, make_counter):
    counter_id = complaint.visit.counter_id
    assert [c.id for c in open_complaints(session, counter_id)] == [complaint.id]
    ticket = issue_ticket(session, clock, "C")
    session.commit()
    call_next(session, clock, counter_id)
    finish_visit(session, clock, ticket.token, VisitRecord(outcome="follow_up", complaint_department="x"))
    session.commit()
    follow_ups = open_follow_ups(session, counter_id)
    assert [v.ticket.number for v in follow_ups] == ["C002"]
    mark_follow_up_done(session, clock, follow_ups[0].id)
    session.commit()
    assert open_follow_ups(session, counter_id) == []
    with pytest.raises(InvalidTransition):
        mark_follow_up_done(session, clock, follow_ups[0].id)


def test_a_complaint_change_is_audited_by_the_engine_whoever_calls_it(session, clock, complaint, make_user):
    boss = make_user("boss", role="supervisor")
    update_complaint(
        session, clock, complaint.id, status="investigating", department="窗口科", actor_id=boss.id
    )
    session.commit()

    (row,) = session.query(AuditEntry).all()
    assert (row.user_id, row.action, row.target) == (boss.id, "update_complaint", f"complaint:{complaint.id}")
    assert (row.before["status"], row.after["status"]) == ("open", "investigating")
    assert (row.before["department"], row.after["department"]) == ("督查科", "窗口科")


def test_a_refused_complaint_change_writes_no_audit_row(session, clock, complaint):
    with pytest.raises(InvalidTransition):
        update_complaint(session, clock, complaint.id, status="closed")
    session.rollback()
    assert session.query(AuditEntry).count() == 0
