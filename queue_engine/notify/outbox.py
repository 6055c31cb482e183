"""The outbox: notifications written in the same transaction as the change that causes them.

``enqueue`` writes one row; channels (``webhook`` here; SMS, e-mail and push plug in with
``register_channel``) send it later from the worker (``queue_engine.notify.worker``).  The
session hook below turns what a transaction changed into rows for the webhook subscriptions
that want them: before a flush it notes the new ticket events, bookings that were made,
cancelled or missed and rectification cases opened for a bad rating; after the flush, when ids
and the queue's new state are known, it writes the rows.  A rolled-back change takes its rows
with it, so it sends nothing.

Events wired (DESIGN §11): ``ticket.issued``, ``ticket.called``, ``ticket.near`` (once per
ticket, when the visitors before it are the hall's ``near_position`` or fewer, default 3: a plain
count of the service's waiting tickets in queue order; see ``near_tickets``), ``ticket.finished``,
``ticket.rated``, ``appointment.booked``, ``appointment.cancelled``, ``appointment.missed``, ``rating.bad``.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    cast,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from queue_engine.booking.models import Booking, BookingState
from queue_engine.core.clock import iso
from queue_engine.core.kinds import TicketStatus
from queue_engine.core.models import RectificationCase, Service, Ticket, TicketEvent, Visit
from queue_engine.hall.audit import audit
from queue_engine.notify.models import NotifySettings, OutboxMessage, SentOnce, WebhookSubscription

EVENTS = (
    "ticket.issued",
    "ticket.called",
    "ticket.near",
    "ticket.finished",
    "ticket.rated",
    "appointment.booked",
    "appointment.reminder",
    "appointment.cancelled",
    "appointment.missed",
    "rating.bad",
    "case.overdue",
)
TICKET_EVENTS = {
    "issued": "ticket.issued",
    "called": "ticket.called",
    "finished": "ticket.finished",
    "rated": "ticket.rated",
}
# Ticket events after which the visitors ahead of others may have fallen below the threshold.
LEAVES_QUEUE = ("called", "cancelled", "transferred", "no_show", "expired")
DEFAULT_NEAR_POSITION = 3
NOTED_KEY = "qms.outbox_noted"


@dataclass(frozen=True)
class Sent:
    """What one attempt to send got: the receiver's status and answer, or the error."""

    ok: bool
    status_code: int | None = None
    answer: str | None = None
    error: str | None = None
    # A change the attempt calls for (a push subscription the browser dropped), written with it:
    # a channel sends outside any transaction, so it cannot write itself.
    then: Callable[[Session], None] | None = None


ANSWER_EXCERPT = 300  # characters of a receiver's answer kept in the delivery log


def send_request(request: urllib.request.Request, timeout_s: float) -> Sent:
    """Send one HTTP request of a channel (webhook, SMS gateway): 2xx is done, anything else,
    a refused connection or a timeout is a failed attempt with what the receiver said."""
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310 (admin's URL)
            text = answer.read(ANSWER_EXCERPT).decode("utf-8", "replace")
            return Sent(ok=200 <= answer.status < 300, status_code=answer.status, answer=text)
    except urllib.error.HTTPError as error:
        text = error.read(ANSWER_EXCERPT).decode("utf-8", "replace")
        return Sent(ok=False, status_code=error.code, answer=text, error=f"HTTP {error.code}")
    except (OSError, ValueError) as error:
        return Sent(ok=False, error=f"{type(error).__name__}: {error}"[:500])


SendFn = Callable[[Session, OutboxMessage, float], Sent]
CHANNELS: dict[str, SendFn] = {}


def register_channel(name: str, send_fn: SendFn) -> None:
    """Make a channel deliverable: ``send_fn(session, message, timeout_s)`` sends one row."""
    CHANNELS[name] = send_fn


def enqueue(
    session: Session,
    event_name: str,
    data: dict[str, Any],
    *,
    channel: str = "webhook",
    recipient: str | None = None,
    due_at: datetime | None = None,
    at: datetime | None = None,
    subscription_id: int | None = None,
    ref: str | None = None,
) -> OutboxMessage:
    """Write one notification to send, in the caller's transaction (due at once unless told)."""
    when = at or due_at
    if when is None:
        raise ValueError("enqueue needs the event's time (at) or a due_at")
    message = OutboxMessage(**_row(event_name, data, when, channel, recipient, subscription_id, ref, due_at))
    session.add(message)
    return message


def _row(
    event_name: str,
    data: dict[str, Any],
    at: datetime,
    channel: str = "webhook",
    recipient: str | None = None,
    subscription_id: int | None = None,
    ref: str | None = None,
    due_at: datetime | None = None,
) -> dict[str, Any]:
    """The columns of a new outbox row, pending, due at ``due_at`` (else at once)."""
    return {
        "uid": uuid.uuid4().hex,
        "event": event_name,
        "payload": data,
        "channel": channel,
        "recipient": recipient,
        "subscription_id": subscription_id,
        "ref": ref,
        "at": at,
        "due_at": due_at or at,
        "attempts": 0,
        "status": "pending",
        "created_at": at,
    }


def near_position(session: Session) -> int:
    """How many visitors ahead make a ticket "near" (the hall's setting, default 3)."""
    value = session.scalar(select(NotifySettings.near_position).order_by(NotifySettings.id).limit(1))
    return DEFAULT_NEAR_POSITION if value is None else int(value)


def set_near_position(session: Session, value: int, now: datetime, actor_id: int | None) -> None:
    """Set the hall's "N people ahead" threshold (audited when it changes)."""
    if not 1 <= value <= 50:
        raise ValueError("near_position must be 1..50")
    row = session.scalars(select(NotifySettings).order_by(NotifySettings.id).limit(1)).first()
    before = DEFAULT_NEAR_POSITION if row is None else row.near_position
    if row is None:
        session.add(NotifySettings(near_position=value))
    else:
        row.near_position = value
    forget_subscriptions(session)
    if value != before:
        audit_settings(session, now, actor_id, "near_position", before, value)


def audit_settings(
    session: Session, now: datetime, actor_id: int | None, name: str, before: Any, after: Any
) -> None:
    """Audit one changed notification setting (``notify_settings``)."""
    audit(session, now, actor_id, "notify_settings", name, before={name: before}, after={name: after})


def erase_personal_payloads(
    session: Session, *, before: datetime | None = None, value: str | None = None
) -> int:
    """Take the personal data (``data.personal``) out of the webhook rows written before
    ``before``, or out of those naming ``value`` (a phone number, a name): the retention period
    and one person's erasure reach the outbox too.  The number of rows changed."""
    query = select(OutboxMessage).where(
        OutboxMessage.channel == "webhook", cast(OutboxMessage.payload, String).like('%"personal"%')
    )
    if before is not None:
        query = query.where(OutboxMessage.created_at < before)
    wanted = value.strip() if value is not None else None
    erased = 0
    for message in session.scalars(query.order_by(OutboxMessage.id)):
        personal = (message.payload or {}).get("personal")
        if not isinstance(personal, dict):
            continue
        if wanted is not None and wanted not in {str(v).strip() for v in personal.values()}:
            continue
        message.payload = {key: item for key, item in message.payload.items() if key != "personal"}
        erased += 1
    return erased


# -- what each event tells -------------------------------------------------------------------------


def _ticket_data(ticket: Any, service_code: str | None = None) -> dict[str, Any]:
    """What an event tells of a ticket (a Ticket, or a row of its columns with ``service_code``)."""
    return {
        "ticket": {
            "number": ticket.number,
            "service": service_code or ticket.service.code,
            "status": ticket.status,
            "counter_id": ticket.counter_id,
            "source": ticket.source,
            "lang": ticket.lang,
            "issued_at": iso(ticket.issued_at),
        }
    }


def _visit_personal(visit: Visit | None) -> dict[str, Any]:
    if visit is None:
        return {}
    return {"customer_name": visit.customer_name, "contact": visit.contact}


def _booking_data(session: Session, booking: Booking) -> tuple[dict[str, Any], dict[str, Any]]:
    service = session.get(Service, booking.service_id)
    data = {
        "appointment": {
            "code": booking.code,
            "service": service.code if service else None,
            "start": iso(booking.slot_start),
            "end": iso(booking.slot_end),
            "status": booking.state,
            "lang": booking.lang,
        }
    }
    return data, {"name": booking.name, "phone": booking.phone}


@dataclass
class _Noted:
    event: str
    at: datetime
    data: dict[str, Any]
    personal: dict[str, Any]
    ref: str | None = None


@dataclass(frozen=True)
class Subscriber:
    """What the outbox needs of an active webhook subscription."""

    id: int
    events: frozenset[str]
    trusted_for_personal_data: bool


@dataclass(frozen=True)
class Listening:
    """Who listens: the active subscriptions and the "N ahead" setting."""

    subscriptions: tuple[Subscriber, ...]
    near_position: int


LISTENING_KEY = "qms.outbox_listening"
# One row for the setting, joined to every active subscription (none: one row of NULLs).  Built
# once: it runs in every write transaction.
_NEAR_SETTING = select(
    func.coalesce(
        select(NotifySettings.near_position).order_by(NotifySettings.id).limit(1).scalar_subquery(),
        DEFAULT_NEAR_POSITION,
    ).label("near")
).subquery()
_LISTENING = select(
    _NEAR_SETTING.c.near,
    WebhookSubscription.id,
    WebhookSubscription.events,
    WebhookSubscription.trusted_for_personal_data,
).select_from(_NEAR_SETTING.outerjoin(WebhookSubscription, WebhookSubscription.active.is_(True)))


def listening(session: Session) -> Listening:
    """The active subscriptions and the near threshold, read in one statement once per transaction.

    Not cached across transactions: a subscription added by another process must hear the very
    next event (an event is fanned out when it is written; one missed is never sent)."""
    found: Listening | None = session.info.get(LISTENING_KEY)
    if found is not None:
        return found
    with session.no_autoflush:
        rows = session.execute(_LISTENING).all()
    found = Listening(
        tuple(Subscriber(i, frozenset(events or []), bool(trusted)) for _, i, events, trusted in rows if i),
        int(rows[0][0]),
    )
    session.info[LISTENING_KEY] = found
    return found


def _active_subscriptions(session: Session) -> tuple[Subscriber, ...]:
    return listening(session).subscriptions


def forget_subscriptions(session: Session | None = None) -> None:
    """Read who listens again at the next flush (a subscription or the threshold just changed)."""
    if session is not None:
        session.info.pop(LISTENING_KEY, None)


@event.listens_for(Session, "after_commit")
def _forget_listening_after_commit(session: Session) -> None:
    session.info.pop(LISTENING_KEY, None)


_OUTBOX_INSERT = insert(OutboxMessage)  # run on the connection: Core, not the ORM bulk path


def _fan_out(session: Session, noted: list[_Noted], subscriptions: Sequence[Subscriber]) -> None:
    """Write one row per event and subscription that wants it (one INSERT for them all)."""
    rows: list[dict[str, Any]] = []
    for item in noted:
        for subscription in subscriptions:
            if item.event not in subscription.events:
                continue
            data = dict(item.data)
            if subscription.trusted_for_personal_data and item.personal:
                data["personal"] = dict(item.personal)
            rows.append(_row(item.event, data, item.at, subscription_id=subscription.id, ref=item.ref))
    if rows:
        # Core, not the ORM's bulk insert: its bookkeeping cost more than the INSERT itself.
        session.connection().execute(_OUTBOX_INSERT, rows)


def queue_head(service_id: Any, day: Any, count: Any) -> Select[Ticket]:
    """The first ``count`` waiting tickets of a service's queue of one business day, in queue order
    (for "N ahead"; read along the index ``ix_tickets_queue``, no sort)."""
    return (
        select(Ticket)
        .where(
            Ticket.status == TicketStatus.WAITING,
            Ticket.business_date == day,
            Ticket.service_id == service_id,
        )
        .order_by(Ticket.queued_at, Ticket.id)
        .limit(count)
    )


# The statements of "N ahead", built once (they run on every move of a queue someone listens to):
# the head's tickets, and claiming the head in notify_sent_once (refs back only for the new ones).
_HEAD = (
    queue_head(bindparam("service_id"), bindparam("day"), bindparam("head", type_=Integer))
    .with_only_columns(
        Ticket.id,
        Ticket.number,
        Ticket.status,
        Ticket.counter_id,
        Ticket.source,
        Ticket.lang,
        Ticket.issued_at,
        Service.code.label("service_code"),
    )
    .join(Service, Service.id == Ticket.service_id)
)
_HEAD_IDS = queue_head(
    bindparam("service_id"), bindparam("day"), bindparam("head", type_=Integer)
).with_only_columns(Ticket.id)
_HEAD_REFS = select(
    literal("ticket.near"),
    literal("ticket:") + cast(_HEAD_IDS.subquery().c.id, String),
    bindparam("at", type_=SentOnce.__table__.c.at.type),
).where(true())  # (without a WHERE, SQLite reads "ON CONFLICT" as the ON of a join)


def queue_moves(
    session: Session, noted: list[tuple[str, Any]]
) -> tuple[set[tuple[int, date]], datetime | None]:
    """The queues (service, business day) a flush moved (issued, called, cancelled, transferred
    ...: who has "N ahead" may have changed there), and when the last of those events happened."""
    queues: set[tuple[int, date]] = set()
    last_at: datetime | None = None
    with session.no_autoflush:
        for kind, obj in noted:
            if kind != "ticket_event" or not (obj.type in LEAVES_QUEUE or obj.type == "issued"):
                continue
            ticket = obj.ticket
            queues.add((ticket.service_id, ticket.business_date))
            if obj.type == "transferred" and (obj.data or {}).get("from_service_id"):
                queues.add((int(obj.data["from_service_id"]), ticket.business_date))
            last_at = obj.at
    return queues, last_at


def claim_once(session: Session, event_name: str, ref: str, at: datetime) -> bool:
    """Note that an event about ``ref`` is written; False if it already was (by anyone).

    The guard's primary key makes "once" hold across processes: a second writer's insert of the
    same (event, ref) waits for the first one's commit and then inserts nothing."""
    return session.scalar(_claim(session).values(event=event_name, ref=ref, at=at)) is not None


def _claim(session: Session) -> Any:
    """``INSERT INTO notify_sent_once ... ON CONFLICT DO NOTHING RETURNING ref`` in the session's dialect."""
    return _CLAIMS[_on_postgresql(session)]


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _claim_statement(insert_fn: Any) -> Any:
    return (
        insert_fn(SentOnce)
        .on_conflict_do_nothing(index_elements=[SentOnce.event, SentOnce.ref])
        .returning(SentOnce.ref)
    )


_CLAIMS = {False: _claim_statement(sqlite.insert), True: _claim_statement(postgresql.insert)}
_CLAIM_HEADS = {
    postgres: claim.from_select(["event", "ref", "at"], _HEAD_REFS) for postgres, claim in _CLAIMS.items()
}


@dataclass(frozen=True)
class Near:
    """A ticket a flush brought to "N ahead": its id, how many are ahead, what the event tells."""

    ticket_id: int
    ahead: int
    data: dict[str, Any]


def near_tickets(
    session: Session, noted: list[tuple[str, Any]], position: int
) -> tuple[list[Near], datetime]:
    """The tickets a flush brought to ``position`` or fewer people ahead, each once ever, and when.

    One place for webhooks and visitor messages alike.  Each ticket is claimed in
    ``notify_sent_once``, so that no other transaction or process tells it again; a ticket that
    had ``position`` or fewer ahead when it was issued is claimed then.  None is skipped: one that
    two simultaneous calls (each not seeing the other's) moved past the threshold is claimed at
    the queue's next move."""
    queues, last_at = queue_moves(session, noted)
    found: list[Near] = []
    if last_at is None:
        return found, datetime.min
    claim_head = _CLAIM_HEADS[_on_postgresql(session)]
    with session.no_autoflush:
        called = [obj.ticket for kind, obj in noted if kind == "ticket_event" and obj.type == "called"]
    for ticket in called:
        # Simultaneous calls can move a ticket past the threshold unseen, and the next move may be
        # its own call: told then, with nobody ahead, rather than never.
        if claim_once(session, "ticket.near", f"ticket:{ticket.id}", last_at):
            found.append(Near(ticket.id, 0, {**_ticket_data(ticket), "ahead": 0}))
    for service_id, day in sorted(queues):
        values = {"service_id": service_id, "day": day, "head": position + 1, "at": last_at}
        claimed = set(session.connection().scalars(claim_head, values))  # Core: not an ORM bulk insert
        if claimed:
            rows = session.execute(_HEAD, values)  # columns, not Ticket objects: the cheap read
            found.extend(
                Near(row.id, ahead, {**_ticket_data(row, row.service_code), "ahead": ahead})
                for ahead, row in enumerate(rows)
                if f"ticket:{row.id}" in claimed
            )
    return found, last_at


@event.listens_for(Session, "before_flush")
def _note_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    # Ids and the queue's new state are known only after the flush: note the objects now.
    noted: list[tuple[str, Any]] = session.info.setdefault(NOTED_KEY, [])
    for obj in session.new:
        if isinstance(obj, TicketEvent):
            noted.append(("ticket_event", obj))
        elif isinstance(obj, Booking):
            noted.append(("appointment.booked", obj))
        elif isinstance(obj, RectificationCase):
            noted.append(("rating.bad", obj))
    for obj in session.dirty:
        if isinstance(obj, Booking):
            added = inspect(obj).attrs.state.history.added
            if BookingState.CANCELLED in added:
                noted.append(("appointment.cancelled", obj))
            elif BookingState.MISSED in added:
                noted.append(("appointment.missed", obj))


@event.listens_for(Session, "after_flush_postexec")
def _write_after_flush(session: Session, _context: Any) -> None:
    noted: list[tuple[str, Any]] = session.info.pop(NOTED_KEY, [])
    if not noted:
        return
    from queue_engine.notify.visitors import channel_state, note_for_visitors  # imports this module

    listeners = listening(session)
    subscriptions = listeners.subscriptions
    wanted = {name for subscription in subscriptions for name in subscription.events}
    with session.no_autoflush:
        visitors = channel_state(session)
        near: tuple[list[Near], datetime] = ([], datetime.min)
        if "ticket.near" in wanted or visitors.any_on:
            near = near_tickets(session, noted, listeners.near_position)
        note_for_visitors(session, visitors, noted, near)
    if not wanted:
        return  # nobody listens: nothing to build, nothing to write
    items: list[_Noted] = []
    with session.no_autoflush:
        for kind, obj in noted:
            if kind == "ticket_event":
                ticket = obj.ticket
                name = TICKET_EVENTS.get(obj.type)
                if name is None or name not in wanted:
                    continue
                data = _ticket_data(ticket)
                if obj.type == "rated":
                    data["score"] = obj.data.get("score")
                elif obj.type == "called" and ticket.counter is not None:
                    data["counter"] = {"id": ticket.counter.id, "name": ticket.counter.name}
                personal = _visit_personal(ticket.visit) if obj.type == "finished" else {}
                items.append(_Noted(name, obj.at, data, personal, f"ticket:{ticket.id}"))
            elif kind not in wanted:
                continue
            elif kind.startswith("appointment."):
                data, personal = _booking_data(session, obj)
                at = {"appointment.booked": obj.created_at, "appointment.cancelled": obj.cancelled_at}.get(
                    kind, getattr(obj, "missed_at", None)
                )
                items.append(_Noted(kind, at or obj.created_at, data, personal, f"booking:{obj.id}"))
            elif kind == "rating.bad":
                visit = session.get(Visit, obj.visit_id)
                ticket = visit.ticket if visit else None
                data = {"case_id": obj.id, "due_date": obj.due_date.isoformat() if obj.due_date else None}
                if visit is not None:
                    data["score"] = visit.rating
                if ticket is not None:
                    data.update(_ticket_data(ticket))
                items.append(
                    _Noted("rating.bad", obj.opened_at, data, _visit_personal(visit), f"case:{obj.id}")
                )
        if "ticket.near" in wanted:
            told, at = near
            items.extend(_Noted("ticket.near", at, n.data, {}, f"ticket:{n.ticket_id}") for n in told)
        if items:
            _fan_out(session, items, subscriptions)


@event.listens_for(Session, "after_rollback")
def _forget_noted(session: Session) -> None:
    session.info.pop(NOTED_KEY, None)
    session.info.pop(LISTENING_KEY, None)
