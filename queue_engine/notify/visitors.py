"""Messages to visitors (SMS, e-mail) on top of the outbox: who gets what, when, in which words.

Who: a booking's phone gets ``appointment.booked``, ``.reminder``, ``.cancelled`` and
``.missed`` (its e-mail too, when one was left); a ticket whose visitor left a number on the
phone page gets ``ticket.near`` (once) and ``ticket.called``; the follow-up after a bad rating
goes to the ticket's number, else to its booking's.  One row per message and channel, written in
the transaction of the change (``note_for_visitors`` is called from the outbox's after-flush
hook; ``visitor_messages_for`` can be called for any other event, such as the reminder).

When: :func:`visitor_rule` is the one place that decides.  Nothing goes to a number that replied
STOP; inside the hall's quiet hours every message but
"called" is deferred to their end (the row's ``due_at``).  Every message is in the visitor's
language (the ticket's or booking's ``lang``).  At most one "N ahead" per ticket: the outbox's
``near_tickets`` claims each ticket's once, for webhooks and visitors alike, across processes.
"""

from __future__ import annotations

import os
import time as monotonic
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from queue_engine.booking.bookings import normalise_phone
from queue_engine.booking.models import Booking
from queue_engine.booking.views import mask_phone
from queue_engine.core.errors import InvalidFields, InvalidTransition
from queue_engine.core.kinds import TicketStatus
from queue_engine.core.models import Counter, Hall, RectificationCase, Service, Ticket, TicketEvent, Visit
from queue_engine.hall.audit import audit
from queue_engine.notify.channels_push import push_public_key, valid_subscription
from queue_engine.notify.models import OutboxMessage
from queue_engine.notify.outbox import Near, enqueue
from queue_engine.notify.templates import (
    LANGS,
    VISITOR_EVENTS,
    message_lang,
    render,
    subject_for,
    template_for,
    template_problem,
)
from queue_engine.notify.visitor_models import SmsStop, VisitorChannelSettings, VisitorContact

# What the phone page's notifications are for (bookings and follow-ups go by text and mail).
PUSH_EVENTS = ("ticket.near", "ticket.called")
STOP_WORDS = frozenset(("stop", "unsubscribe", "退订", "td", "t"))
# The settings are read at most this often per process (the hot issue/call path reads nothing
# when no channel is on); the process where the admin saves forgets them at once.
STATE_SECONDS = 10.0
DEFAULT_TIMEZONE = "Asia/Shanghai"
_HHMM = "%H:%M"


# -- the hall's settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelState:
    """What the rules need to know of the hall's settings."""

    sms_on: bool = False
    email_on: bool = False
    push_on: bool = False
    quiet_start: time | None = None
    quiet_end: time | None = None
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    templates: dict[str, Any] = field(default_factory=dict)
    hall: dict[str, str] = field(default_factory=dict)

    @property
    def any_on(self) -> bool:
        """Whether some visitor channel can send at all."""
        return self.sms_on or self.email_on or self.push_on


# Per database engine (a test's or a process's); an engine that goes away takes its entry along.
_STATES: weakref.WeakKeyDictionary[Any, tuple[float, ChannelState]] = weakref.WeakKeyDictionary()


def _hhmm(value: str | None) -> time | None:
    try:
        return datetime.strptime((value or "").strip(), _HHMM).time() if value else None
    except ValueError:
        return None


def settings_row(session: Session) -> VisitorChannelSettings:
    """The hall's channel settings row (a new, unsaved one with the defaults when none is stored)."""
    row = session.scalars(select(VisitorChannelSettings).order_by(VisitorChannelSettings.id).limit(1)).first()
    return row or VisitorChannelSettings(
        sms_url="",
        sms_method="POST",
        sms_content_type="application/json",
        sms_body="",
        sms_header="",
        quiet_start="",
        quiet_end="",
        templates={},
    )


def email_configured() -> bool:
    """Whether an SMTP server is set (``QMS_SMTP_HOST``)."""
    return bool(os.environ.get("QMS_SMTP_HOST", "").strip())


def read_channel_state(session: Session) -> ChannelState:
    """Read the settings, the hall's timezone and name now."""
    row = settings_row(session)
    hall = session.execute(select(Hall.timezone, Hall.name).order_by(Hall.id).limit(1)).first()
    zone = (hall.timezone if hall else None) or os.environ.get("QMS_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(DEFAULT_TIMEZONE)
    names = hall.name if hall and isinstance(hall.name, dict) else {}
    return ChannelState(
        sms_on=bool(row.sms_url.strip()),
        email_on=email_configured(),
        push_on=bool(push_public_key()),
        quiet_start=_hhmm(row.quiet_start),
        quiet_end=_hhmm(row.quiet_end),
        tz=tz,
        templates=dict(row.templates or {}),
        hall={lang: str(names.get(lang) or "") for lang in LANGS},
    )


def channel_state(session: Session) -> ChannelState:
    """The settings as this process last read them (again after ``STATE_SECONDS``)."""
    bind = session.get_bind()
    key = getattr(bind, "engine", bind)
    found = _STATES.get(key)
    if found is not None and monotonic.monotonic() - found[0] < STATE_SECONDS:
        return found[1]
    state = read_channel_state(session)
    _STATES[key] = (monotonic.monotonic(), state)
    return state


def forget_channel_state() -> None:
    """Read the settings again at the next message (an admin just saved them)."""
    _STATES.clear()


def save_channel_settings(
    session: Session, values: dict[str, Any], now: datetime, actor_id: int | None
) -> VisitorChannelSettings:
    """Save the gateway, quiet hours and templates the admin typed (InvalidFields when wrong).

    Audited: which fields changed, and the gateway's address before and after (not the header,
    which may hold a key)."""
    errors: dict[str, str] = {}
    url = str(values.get("sms_url", "")).strip()
    if url and not url.startswith(("http://", "https://")):
        errors["sms_url"] = "The gateway URL must be an http:// or https:// address."
    method = str(values.get("sms_method", "POST")).upper()
    if method not in ("POST", "GET", "PUT"):
        errors["sms_method"] = "POST, PUT or GET."
    quiet = {}
    for name in ("quiet_start", "quiet_end"):
        typed = str(values.get(name, "")).strip()
        if typed and _hhmm(typed) is None:
            errors[name] = "A time like 21:30, or empty."
        quiet[name] = typed
    if bool(quiet["quiet_start"]) != bool(quiet["quiet_end"]):
        errors["quiet_end"] = "Give both the start and the end of the quiet hours, or neither."
    templates: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        for event in VISITOR_EVENTS:
            text = str((values.get("templates") or {}).get(lang, {}).get(event, "")).strip()
            problem = template_problem(text) if text else None
            if problem:
                errors[f"template_{lang}_{event}"] = problem
            elif text:
                templates.setdefault(lang, {})[event] = text
    if errors:
        raise InvalidFields(errors)
    row = settings_row(session)
    before = {name: getattr(row, name) for name in AUDITED_CHANNEL_FIELDS}
    row.sms_url = url
    row.sms_method = method
    row.sms_content_type = str(values.get("sms_content_type", "application/json")).strip()[:80]
    row.sms_body = str(values.get("sms_body", ""))[:2000]
    row.sms_header = str(values.get("sms_header", "")).strip()[:200]
    row.quiet_start, row.quiet_end = quiet["quiet_start"], quiet["quiet_end"]
    row.templates = templates
    session.add(row)
    forget_channel_state()
    changed = [name for name in AUDITED_CHANNEL_FIELDS if getattr(row, name) != before[name]]
    if changed:
        audit(
            session,
            now,
            actor_id,
            "notify_channels",
            ",".join(changed),
            before={"sms_url": before["sms_url"]},
            after={"sms_url": row.sms_url, "changed": changed},
        )
    return row


AUDITED_CHANNEL_FIELDS = (
    "sms_url",
    "sms_method",
    "sms_content_type",
    "sms_body",
    "sms_header",
    "quiet_start",
    "quiet_end",
    "templates",
)


# -- the rule --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """Whether a message goes, and when (None: at once)."""

    send: bool
    due_at: datetime | None = None
    why: str = ""


def quiet_until(at: datetime, tz: ZoneInfo, start: time | None, end: time | None) -> datetime | None:
    """The end of the quiet hours ``at`` falls in (UTC), or None when it is outside them."""
    if start is None or end is None or start == end:
        return None
    local = at.astimezone(tz)
    now = local.time().replace(tzinfo=None)
    if start < end:
        inside, day = start <= now < end, local.date()
    else:  # over midnight: 22:00-08:00
        inside = now >= start or now < end
        day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return datetime.combine(day, end, tz).astimezone(UTC)


def visitor_rule(
    event: str,
    at: datetime,
    state: ChannelState,
    *,
    stopped: bool = False,
) -> Decision:
    """Whether (and when) a visitor gets a message: STOP, then quiet hours ("called" goes at once)."""
    if stopped:
        return Decision(False, why="the number replied STOP")
    if event == "ticket.called":
        return Decision(True)  # the visitor must go to the counter now, quiet hours or not
    until = quiet_until(at, state.tz, state.quiet_start, state.quiet_end)
    return Decision(True, due_at=until, why="deferred to the end of the quiet hours" if until else "")


# -- who gets what ---------------------------------------------------------------------------------


def is_stopped(session: Session, phone: str) -> bool:
    """Whether a number replied STOP."""
    return bool(phone) and session.get(SmsStop, phone) is not None


def _values(
    session: Session, state: ChannelState, lang: str, ticket: Ticket | None, booking: Booking | None
) -> dict[str, Any]:
    values: dict[str, Any] = {"hall": state.hall.get(lang, "")}
    service_id = booking.service_id if booking else ticket.service_id if ticket else None
    service = session.get(Service, service_id) if service_id else None
    if service is not None:
        values["service"] = service.name(lang)
    if ticket is not None:
        values["number"] = ticket.number
        counter = session.get(Counter, ticket.counter_id) if ticket.counter_id else None
        values["counter"] = counter.name if counter else ""
    if booking is not None:
        local = booking.slot_start.astimezone(state.tz)
        values.update(code=booking.code, date=local.strftime("%Y-%m-%d"), time=local.strftime(_HHMM))
    return values


def _ref(ticket: Ticket | None, booking: Booking | None) -> str:
    return (
        f"visitor:ticket:{ticket.id}"
        if ticket is not None
        else f"visitor:booking:{booking.id if booking else 0}"
    )


def _already(session: Session, event: str, ref: str, channel: str | None = None) -> bool:
    query = select(OutboxMessage.id).where(OutboxMessage.event == event, OutboxMessage.ref == ref)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return session.scalar(query.limit(1)) is not None


def _recipients(
    session: Session, event: str, ticket: Ticket | None, booking: Booking | None
) -> tuple[str, str, str, bool]:
    """(phone, e-mail, lang, whether the page allowed push) of whoever an event is for."""
    if booking is not None:
        contact = session.scalars(
            select(VisitorContact).where(VisitorContact.booking_id == booking.id)
        ).first()
        return booking.phone, contact.email if contact else "", booking.lang, False
    if ticket is None:
        return "", "", "zh", False
    contact = session.scalars(select(VisitorContact).where(VisitorContact.ticket_id == ticket.id)).first()
    push = bool(contact and contact.push) and event in PUSH_EVENTS
    if contact is not None and (contact.phone or contact.email or push):
        return contact.phone, contact.email, ticket.lang, push
    if event == "rating.bad":
        booked = session.scalars(select(Booking).where(Booking.ticket_id == ticket.id)).first()
        if booked is not None:
            return booked.phone, "", booked.lang, False
    return "", "", ticket.lang, False


def visitor_messages_for(
    session: Session,
    event: str,
    at: datetime,
    *,
    ticket: Ticket | None = None,
    booking: Booking | None = None,
    values: dict[str, Any] | None = None,
    channels: tuple[str, ...] = ("sms", "email", "push"),
    state: ChannelState | None = None,
) -> list[OutboxMessage]:
    """Write the visitor messages an event causes (one outbox row per channel) in the caller's
    transaction, following :func:`visitor_rule`; the rows written."""
    if event not in VISITOR_EVENTS:
        return []
    state = state or channel_state(session)
    phone, email, visitor_lang, push = _recipients(session, event, ticket, booking)
    lang = message_lang(visitor_lang)
    ref = _ref(ticket, booking)
    filled = {**_values(session, state, lang, ticket, booking), **(values or {})}
    text = render(template_for(state.templates, lang, event), filled)
    written: list[OutboxMessage] = []
    routes = (
        ("sms", phone, state.sms_on),
        ("email", email, state.email_on),
        ("push", "browser" if push else "", state.push_on),
    )
    for channel, recipient, on in routes:
        if channel not in channels or not recipient or not on:
            continue
        decision = visitor_rule(event, at, state, stopped=channel == "sms" and is_stopped(session, recipient))
        if not decision.send:
            continue
        # The values too, for a relay that must fill a provider's approved template instead.
        params = {key: str(value) for key, value in filled.items() if value not in (None, "")}
        payload: dict[str, Any] = {"text": text, "lang": lang, "params": params}
        if ticket is not None:
            payload["ticket_id"] = ticket.id
        if booking is not None:
            payload["booking_id"] = booking.id
        if channel in ("email", "push"):
            payload["subject"] = subject_for(lang, event, filled.get("hall", ""))
        written.append(
            enqueue(
                session,
                event,
                payload,
                channel=channel,
                recipient=recipient,
                at=at,
                due_at=decision.due_at or at,
                ref=ref,
            )
        )
    return written


def note_for_visitors(
    session: Session,
    state: ChannelState,
    noted: list[tuple[str, Any]],
    near: tuple[list[Near], datetime],
) -> None:
    """The outbox's after-flush call: write the visitor messages of what the flush changed
    (``near``: the tickets it brought to "N ahead", claimed once, with how many are ahead, and when)."""
    if not state.any_on:
        return  # no channel configured: nothing read, nothing written
    with session.no_autoflush:
        for kind, obj in noted:
            if kind == "ticket_event" and isinstance(obj, TicketEvent):
                ticket = session.get(Ticket, obj.ticket_id)
                if ticket is None:
                    continue
                if obj.type == "called":
                    visitor_messages_for(session, "ticket.called", obj.at, ticket=ticket, state=state)
            elif kind.startswith("appointment.") and isinstance(obj, Booking):
                at = {"appointment.booked": obj.created_at, "appointment.cancelled": obj.cancelled_at}.get(
                    kind, obj.missed_at
                )
                visitor_messages_for(session, kind, at or obj.created_at, booking=obj, state=state)
            elif kind == "rating.bad" and isinstance(obj, RectificationCase):
                visit = session.get(Visit, obj.visit_id)
                if visit is None or visit.ticket is None:
                    continue
                due = obj.due_date.isoformat() if obj.due_date else ""
                visitor_messages_for(
                    session,
                    "rating.bad",
                    obj.opened_at,
                    ticket=visit.ticket,
                    values={"due_date": due},
                    state=state,
                )
        told, at = near
        for one in told:
            ticket = session.get(Ticket, one.ticket_id)
            values = {"ahead": one.ahead}
            visitor_messages_for(session, "ticket.near", at, ticket=ticket, values=values, state=state)


# -- what visitors leave and send back -------------------------------------------------------------


def leave_phone(session: Session, now: datetime, ticket: Ticket, phone: str) -> VisitorContact:
    """A waiting visitor leaves a number for "N ahead" and "called" texts (the latest one counts)."""
    if ticket.status != TicketStatus.WAITING:
        raise InvalidTransition("Texts can be asked for only while the ticket is waiting.")
    number = normalise_phone(phone)
    contact = session.scalars(select(VisitorContact).where(VisitorContact.ticket_id == ticket.id)).first()
    if contact is None:
        contact = VisitorContact(ticket_id=ticket.id, email="", created_at=now)
        session.add(contact)
    contact.phone, contact.lang = number, ticket.lang
    return contact


def allow_push(session: Session, now: datetime, ticket: Ticket, subscription: Any) -> VisitorContact:
    """The phone page was allowed to show notifications: keep its browser's push subscription."""
    if ticket.status != TicketStatus.WAITING:
        raise InvalidTransition("Notifications can be asked for only while the ticket is waiting.")
    found = valid_subscription(subscription)
    if found is None:
        raise InvalidFields({"subscription": "Not a push subscription (endpoint and keys)."})
    contact = session.scalars(select(VisitorContact).where(VisitorContact.ticket_id == ticket.id)).first()
    if contact is None:
        contact = VisitorContact(ticket_id=ticket.id, phone="", email="", lang=ticket.lang, created_at=now)
        session.add(contact)
    contact.push = found
    return contact


def ticket_phone(session: Session, ticket: Ticket) -> str:
    """The number a visitor left for a ticket ("" when none)."""
    found = session.scalar(select(VisitorContact.phone).where(VisitorContact.ticket_id == ticket.id))
    return found or ""


def leave_booking_email(
    session: Session, now: datetime, booking: Booking, email: str
) -> VisitorContact | None:
    """Keep a booking's e-mail address and send it the confirmation (None when none was typed)."""
    address = email.strip()
    if not address:
        return None
    if len(address) > 200 or "@" not in address or " " in address or address.startswith("@"):
        raise InvalidFields({"email": "Give an e-mail address like name@example.com, or leave it empty."})
    session.flush()
    contact = VisitorContact(
        booking_id=booking.id, phone="", email=address, lang=booking.lang, created_at=now
    )
    session.add(contact)
    if not _already(session, "appointment.booked", _ref(None, booking), "email"):
        visitor_messages_for(
            session, "appointment.booked", booking.created_at, booking=booking, channels=("email",)
        )
    return contact


def is_stop_word(text: str) -> bool:
    """Whether a reply asks for no more messages (STOP, 退订, TD)."""
    return text.strip().strip(".!。！").lower() in STOP_WORDS


def inbound_sms(session: Session, now: datetime, phone: str, text: str) -> bool:
    """A reply the gateway passed on; True when it was a STOP (the number gets nothing more)."""
    if not is_stop_word(text):
        return False
    number = normalise_phone(phone)
    if session.get(SmsStop, number) is None:
        session.add(SmsStop(phone=number, at=now))
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == "sms",
            OutboxMessage.recipient == number,
            OutboxMessage.status == "pending",
        )
        .values(status="failed", last_error="the number replied STOP")
        .execution_options(synchronize_session=False)
    )
    return True


def erase_old_contacts(session: Session, before: datetime) -> int:
    """Erase the numbers and addresses visitors left before ``before``, and those of their messages."""
    contacts = session.execute(
        update(VisitorContact)
        .where(
            VisitorContact.created_at < before,
            (VisitorContact.phone != "") | (VisitorContact.email != "") | VisitorContact.push.is_not(None),
        )
        .values(phone="", email="", push=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel.in_(("sms", "email")),
            OutboxMessage.created_at < before,
            OutboxMessage.recipient != "",
        )
        .values(recipient="")
        .execution_options(synchronize_session=False)
    )
    return int(contacts.rowcount or 0)  # type: ignore[attr-defined]


def erase_contacts_of(session: Session, value: str) -> int:
    """Erase one person's number or address wherever a visitor left it (a supervisor's erasure)."""
    value = value.strip()
    if not value:
        return 0
    erased = session.execute(
        update(VisitorContact)
        .where((VisitorContact.phone == value) | (VisitorContact.email == value))
        .values(phone="", email="", push=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.channel.in_(("sms", "email")), OutboxMessage.recipient == value)
        .values(recipient="")
        .execution_options(synchronize_session=False)
    )
    return int(erased.rowcount or 0)  # type: ignore[attr-defined]


def mask_address(channel: str, recipient: str | None) -> str:
    """A recipient as lists show it: 138****5678, a***@example.org."""
    value = recipient or ""
    if not value:
        return ""
    if channel == "email":
        name, _, domain = value.partition("@")
        return f"{name[:1]}***@{domain}"
    return mask_phone(value)


def recent_visitor_messages(session: Session, limit: int = 50) -> list[OutboxMessage]:
    """The newest SMS and e-mail rows, for the admin's delivery log."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel.in_(("sms", "email")))
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
