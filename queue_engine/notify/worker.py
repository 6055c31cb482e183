"""Delivering the outbox: claim due rows, send them, log each attempt, back off on failure.

Several processes may run the worker at once.  A row is claimed by one UPDATE that sets
``claimed_by`` and a lease; on PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``,
so two processes never take the same row, and on SQLite the database's single writer makes the
UPDATE atomic.  A process that dies holding a lease frees its rows when the lease runs out.
After a failed attempt n the row is due again ``first_retry_s × factor^(n-1)`` later; once the
retries would go past ``give_up_s`` (24 h) in all, it is ``dead``.  A row that can never be
sent (its subscription was removed, its channel is unknown) is ``failed``.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from queue_engine.core.db import read_only
from queue_engine.core.errors import NotFound
from queue_engine.hall.audit import audit
from queue_engine.notify.models import Delivery, OutboxMessage
from queue_engine.notify.outbox import CHANNELS, Sent


@dataclass(frozen=True)
class RetryPolicy:
    """How the worker retries (seconds)."""

    first_retry_s: float = 10.0
    factor: float = 2.0
    give_up_s: float = 24 * 3600.0
    timeout_s: float = 5.0
    lease_s: float = 60.0

    def delay_after(self, attempts: int) -> float | None:
        """The wait before the next attempt after ``attempts`` failed ones; None: give up."""
        spent = sum(self.first_retry_s * self.factor**i for i in range(attempts))
        if spent > self.give_up_s:
            return None
        return self.first_retry_s * self.factor ** (attempts - 1)


def worker_name() -> str:
    """A name for this claim: host, process and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_due(session: Session, now: datetime, limit: int, policy: RetryPolicy) -> list[OutboxMessage]:
    """Claim up to ``limit`` due rows for this call (committed), oldest first.

    The rows come back detached from the session, loaded: sending them needs no transaction."""
    name = worker_name()
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.due_at <= now,
            (OutboxMessage.lease_until.is_(None)) | (OutboxMessage.lease_until < now),
        )
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(due))
    if not ids:
        session.rollback()
        return []
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(claimed_by=name, lease_until=now + timedelta(seconds=policy.lease_s))
        .execution_options(synchronize_session=False)
    )
    claimed = list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.claimed_by == name).order_by(OutboxMessage.id)
        )
    )
    for message in claimed:
        session.expunge(message)  # first: the commit would expire what was just loaded
    session.commit()
    return claimed


def _attempt(session: Session, message: OutboxMessage, policy: RetryPolicy) -> Sent:
    send = CHANNELS.get(message.channel)
    if send is None:
        return Sent(ok=False, error=f"no channel {message.channel!r}")
    try:
        # What a channel reads (its subscription, the gateway's settings) it reads without the
        # write lock, and the read ends before the next row: nothing is held while it waits.
        with read_only():
            return send(session, message, policy.timeout_s)
    except Exception as error:  # a channel's bug must not stop the worker
        return Sent(ok=False, error=f"{type(error).__name__}: {error}"[:500])
    finally:
        session.rollback()


def deliver_due(session: Session, now: datetime, limit: int = 50, policy: RetryPolicy | None = None) -> int:
    """Send the rows due at ``now`` (at most ``limit``); the number sent successfully.

    No transaction is open while a row is sent (on SQLite the hall's one write lock is never held
    across a receiver's answer); each attempt is then written in a short transaction of its own,
    so that a crash loses no more than the row in flight (sent again when its lease runs out,
    under the same ``id``)."""
    policy = policy or RetryPolicy()
    sent = 0
    for message in claim_due(session, now, limit, policy):
        result = _attempt(session, message, policy)
        sent += _record(session, message.id, result, now, policy)
    return sent


def _record(session: Session, message_id: int, result: Sent, now: datetime, policy: RetryPolicy) -> int:
    """Write one attempt and what it means for the row (sent, retried later, given up); 1 if sent."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        session.rollback()
        return 0
    message.attempts += 1
    session.add(
        Delivery(
            outbox_id=message.id,
            at=now,
            status_code=result.status_code,
            answer=(result.answer or "")[:500] or None,
            error=(result.error or "")[:500] or None,
        )
    )
    message.claimed_by = None
    message.lease_until = None
    if result.then is not None:
        result.then(session)
    if result.ok:
        message.status = "sent"
        message.sent_at = now
        message.last_error = None
    else:
        message.last_error = result.error or f"HTTP {result.status_code}"
        delay = policy.delay_after(message.attempts)
        permanent = result.error in ("subscription removed",) or (result.error or "").startswith("no channel")
        if permanent:
            message.status = "failed"
        elif delay is None:
            message.status = "dead"
        else:
            message.due_at = now + timedelta(seconds=delay)
    session.commit()
    return 1 if result.ok else 0


def send_again(session: Session, message_id: int, now: datetime, actor_id: int | None) -> OutboxMessage:
    """Put a row back in the queue, due now, with a fresh round of retries (audited)."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"No outbox row has the id {message_id}.")
    audit(session, now, actor_id, "send_again", f"outbox:{message.id}", before={"status": message.status})
    message.status = "pending"
    message.due_at = now
    message.attempts = 0
    message.claimed_by = None
    message.lease_until = None
    return message


def delivery_log(
    session: Session, subscription_id: int, limit: int = 100
) -> list[tuple[OutboxMessage, list[Delivery]]]:
    """A subscription's newest rows with their attempts (newest first)."""
    messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.subscription_id == subscription_id)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
    attempts: dict[int, list[Delivery]] = {m.id: [] for m in messages}
    if messages:
        for delivery in session.scalars(
            select(Delivery).where(Delivery.outbox_id.in_(list(attempts))).order_by(Delivery.id)
        ):
            attempts[delivery.outbox_id].append(delivery)
    return [(m, attempts[m.id]) for m in messages]


def run_forever(
    make_session: Callable[[], Session],
    now: Callable[[], datetime],
    stop: threading.Event,
    *,
    policy: RetryPolicy | None = None,
    interval_s: float = 1.0,
    on_error: Callable[[BaseException], None] | None = None,
    scheduled: Callable[[Session], object] | None = None,
) -> None:
    """The worker loop of one process: write what time made due (``scheduled``), deliver what is due,
    then wait ``interval_s`` (less when busy)."""
    while not stop.is_set():
        busy = False
        if scheduled is not None:
            try:
                with make_session() as session:
                    scheduled(session)
            except Exception as error:  # a failed scan must not hold up the deliveries
                if on_error is not None:
                    on_error(error)
        try:
            with make_session() as session:
                busy = deliver_due(session, now(), policy=policy) > 0
        except Exception as error:  # the database may be away for a while: try again later
            if on_error is not None:
                on_error(error)
        if not busy:
            stop.wait(interval_s)


def recent_attempts(
    session: Session, subscription_id: int | None = None, limit: int = 200
) -> list[tuple[Delivery, OutboxMessage]]:
    """The newest delivery attempts (of one subscription, or all), each with its outbox row."""
    query = (
        select(Delivery, OutboxMessage)
        .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if subscription_id is not None:
        query = query.where(OutboxMessage.subscription_id == subscription_id)
    return [(delivery, message) for delivery, message in session.execute(query)]
