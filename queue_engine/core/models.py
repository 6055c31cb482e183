"""The queue's data: SQLAlchemy 2.x declarative models, typed with ``Mapped``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship
from sqlalchemy.types import TypeDecorator

from queue_engine.core.kinds import Category, CounterState, PriorityPolicy, Role, Source, TicketStatus


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants as naive UTC and gives them back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to naive UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the engine stores UTC instants only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark stored values as UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base shared by the engine and Flask-SQLAlchemy."""

    registry = registry(type_annotation_map={datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON})


counter_services = Table(
    "counter_services",
    Base.metadata,
    Column("counter_id", ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)

user_counters = Table(
    "user_counters",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("counter_id", ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
)


class Service(Base):
    """A kind of business visitors queue for; its tickets carry its prefix."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    prefix: Mapped[str] = mapped_column(String(4))
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    category: Mapped[str] = mapped_column(String(16), default=Category.OTHER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    target_wait_min: Mapped[int] = mapped_column(Integer, default=15)
    start_number: Mapped[int] = mapped_column(Integer, default=1)

    counters: Mapped[list[Counter]] = relationship(secondary=counter_services, back_populates="services")

    def name(self, lang: str) -> str:
        """The service's name in a language, falling back to any name it has."""
        return self.names.get(lang) or next(iter(self.names.values()), self.code)


class Counter(Base):
    """A service window; the board calls visitors to it by its name."""

    __tablename__ = "counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=CounterState.CLOSED)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state_since: Mapped[datetime | None]

    services: Mapped[list[Service]] = relationship(
        secondary=counter_services, back_populates="counters", order_by="Service.sort_order"
    )
    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id])


class User(Base):
    """A member of staff."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.CLERK)
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Log-in safety (queue_engine/hall/logins.py): wrong passwords in a row, the lock's end,
    # a password someone else chose (changed at the next log-in), and the session generation
    # that every staff cookie carries: bumping it ends every session of the user at once.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    counters: Mapped[list[Counter]] = relationship(secondary=user_counters)


class ServiceDaySequence(Base):
    """The last number given for a service on a business day; locked while incremented."""

    __tablename__ = "service_day_sequences"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    # "" for walk-in numbers (A001), "Y" for booked ones (YA001): each series counts on its own.
    series: Mapped[str] = mapped_column(String(4), primary_key=True, default="", server_default="")
    last_sequence: Mapped[int] = mapped_column(Integer)


def _issue_time(context: Any) -> Any:
    """A walk-in ticket queues from its issue time (the default of ``Ticket.queued_at``)."""
    return context.get_current_parameters()["issued_at"]


class Ticket(Base):
    """A visitor's place in the queue."""

    __tablename__ = "tickets"
    __table_args__ = (
        # The last guard against a number given twice.
        UniqueConstraint(
            "issued_service_id", "business_date", "series", "sequence", name="uq_tickets_day_number"
        ),
        Index("ix_tickets_queue", "status", "business_date", "service_id", "queued_at", "id"),
        # A counter holds at most one active ticket, whatever the application does.
        Index(
            "ux_tickets_active_counter",
            "counter_id",
            unique=True,
            sqlite_where=text("status IN ('called', 'serving')"),
            postgresql_where=text("status IN ('called', 'serving')"),
        ),
        Index("ix_tickets_business_date", "business_date"),
        # A service's last finished tickets, for its handling time (estimates.py).
        Index("ix_tickets_recent_done", "service_id", "status", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(48), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    issued_service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    business_date: Mapped[date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.WAITING)
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    source: Mapped[str] = mapped_column(String(16), default=Source.KIOSK)
    issued_at: Mapped[datetime]
    called_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    transfer_count: Mapped[int] = mapped_column(Integer, default=0)
    # Set by the kiosk per screen; a second touch with the same key gets the same ticket.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Made by ``flask simulate`` (history for demonstrations), never by a visitor.
    simulated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Its place in the queue: the issue time, or for a booked ticket its slot's start (DESIGN §10).
    queued_at: Mapped[datetime] = mapped_column(default=_issue_time)
    # The number series: "" walk-in, "Y" booked (each with its own sequence per service and day).
    series: Mapped[str] = mapped_column(String(4), default="", server_default="")
    # The wait the visitor was told when the ticket was issued, in seconds (DESIGN §12); NULL on
    # tickets from before estimates were kept.
    estimated_wait_s_at_issue: Mapped[int | None] = mapped_column(Integer, nullable=True)

    service: Mapped[Service] = relationship(foreign_keys=[service_id])
    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id])
    transferred_from: Mapped[Service | None] = relationship(foreign_keys=[transferred_from_id])
    visit: Mapped[Visit | None] = relationship(back_populates="ticket", uselist=False)


class Visit(Base):
    """The record a clerk closes for a served ticket, and the visitor's rating of it."""

    __tablename__ = "visits"
    # A counter's last visit (the rating tablet's prompt after every finish).
    __table_args__ = (Index("ix_visits_counter_finished", "counter_id", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    # Personal data: never on public screens, never in logs.
    customer_name: Mapped[str] = mapped_column(String(128), default="")
    contact: Mapped[str] = mapped_column(String(128), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime]
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_efficiency: Mapped[int | None] = mapped_column(Integer)
    rating_level: Mapped[int | None] = mapped_column(Integer)
    rating_attitude: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    rating_source: Mapped[str | None] = mapped_column(String(16))
    # A visit closed as "follow-up" stays on the counter's list until someone marks it done.
    follow_up_done_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship(back_populates="visit")
    complaint: Mapped[Complaint | None] = relationship(back_populates="visit", uselist=False)


class Complaint(Base):
    """A complaint raised at a visit, followed until closed."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    department: Mapped[str] = mapped_column(String(128), default="")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    due_date: Mapped[date | None] = mapped_column(Date)
    resolution: Mapped[str] = mapped_column(Text, default="")
    follow_up_result: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    visit: Mapped[Visit] = relationship(back_populates="complaint")


class RectificationCase(Base):
    """A bad rating's rectification (差评整改), from opening to the follow-up call and close."""

    __tablename__ = "rectification_cases"
    __table_args__ = (Index("ix_rectification_status_due", "status", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime]
    due_date: Mapped[date] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finding: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    rectified_at: Mapped[datetime | None]
    follow_up_reached: Mapped[bool | None] = mapped_column(Boolean)
    follow_up_view: Mapped[str] = mapped_column(Text, default="")
    re_rating: Mapped[int | None] = mapped_column(Integer)
    followed_up_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    visit: Mapped[Visit] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class TicketEvent(Base):
    """One row of the append-only log: every state change writes exactly one."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    type: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # Set when the event is recorded, so that whoever reads the new events after the flush (the
    # outbox) holds the ticket itself and need not load it again.
    ticket: Mapped[Ticket] = relationship(foreign_keys=[ticket_id])


class CounterSession(Base):
    """A stretch of duty at a counter: who opened it, pauses, close and the handover note."""

    __tablename__ = "counter_sessions"
    # A counter's stretch under way, and its days on duty since a day (the estimates' usual pauses).
    __table_args__ = (Index("ix_counter_sessions_counter_opened", "counter_id", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    pause_count: Mapped[int] = mapped_column(Integer, default=0)
    handover_note: Mapped[str] = mapped_column(Text, default="")


class CounterPause(Base):
    """One pause at a counter (暂停服务), from pause to resume or close: when counters usually pause."""

    __tablename__ = "counter_pauses"
    # This counter's pauses since a day (the estimates' usual pauses), and its pause under way.
    __table_args__ = (Index("ix_counter_pauses_counter_started", "counter_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    business_date: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Hall(Base):
    """The hall's own settings (one row)."""

    __tablename__ = "hall"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority_policy: Mapped[str] = mapped_column(String(16), default=PriorityPolicy.STRICT)
    priority_every_n: Mapped[int] = mapped_column(Integer, default=3)
    kiosk_ticket_seconds: Mapped[int] = mapped_column(Integer, default=8)
    # {"0": [["08:30", "17:30"]], ...}: weekday (Monday = 0) to opening intervals; empty = always.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    closed_dates: Mapped[list[Any]] = mapped_column(default=list)
    # NULL: the environment's default (QMS_TIMEZONE / QMS_LANGUAGES); set: overrides it.
    timezone: Mapped[str | None] = mapped_column(String(64))
    languages: Mapped[list[Any] | None] = mapped_column(JSON)
    # The business day closes (open tickets expire) this long after the day's last closing time.
    day_close_delay_min: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    # Weekend dates worked all the same (调休上班); NULL in rows older than the column.
    extra_working_dates: Mapped[list[Any] | None] = mapped_column(JSON, default=list)
    # The notice line the admin writes for the board, per language; NULL in rows older than the column.
    notice: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)


class KioskDevice(Base):
    """A kiosk an admin registered: exempt from the per-address ticket limit."""

    __tablename__ = "kiosk_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class RatingTablet(Base):
    """A counter's rating tablet (评价器) an admin registered: reached by its own token, never a login."""

    __tablename__ = "rating_tablets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    counter: Mapped[Counter] = relationship()


class AuditEntry(Base):
    """Who did what to which records, for changes of settings and views of personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(128), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReportDay(Base):
    """A closed business day whose report figures are kept in ReportCell rows."""

    __tablename__ = "report_days"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    # The cells' layout; a day built by an older layout is computed from the tickets again.
    version: Mapped[int] = mapped_column(Integer)
    # False while visitors may still rate the day's visits: its ratings are then read live.
    final: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    built_at: Mapped[datetime]


class ReportMonth(Base):
    """A past month all of whose days are final: its cells are also kept merged, per month."""

    __tablename__ = "report_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    version: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime]


class ReportCell(Base):
    """A final day's figures for one (issued service, counter, clerk): counts, packed durations.

    A cache of the tickets and their visits (queue_engine/report_cells.py builds it and can
    rebuild it at any time); no foreign keys, so that it never stands in the way of anything.
    """

    __tablename__ = "report_cells"
    __table_args__ = (Index("ix_report_cells_day", "period", "business_date", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "day": one business day; "month": a whole month of final days merged (business_date = the 1st).
    period: Mapped[str] = mapped_column(String(8), default="day", server_default="day")
    business_date: Mapped[date] = mapped_column(Date)
    service_id: Mapped[int] = mapped_column(Integer)
    counter_id: Mapped[int | None] = mapped_column(Integer)
    staff_id: Mapped[int | None] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    served: Mapped[int] = mapped_column(Integer, default=0)
    no_show: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    expired: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)
    transferred_out: Mapped[int] = mapped_column(Integer, default=0)
    # Whole seconds, int32 little-endian, one per ticket: issue -> first call, call -> start,
    # start -> finish; then 24 counts by local hour (arrivals, services) and 5 (ratings 1-5).
    waits: Mapped[bytes] = mapped_column(LargeBinary)
    walks: Mapped[bytes] = mapped_column(LargeBinary)
    service_times: Mapped[bytes] = mapped_column(LargeBinary)
    arrivals_by_hour: Mapped[bytes] = mapped_column(LargeBinary)
    served_by_hour: Mapped[bytes] = mapped_column(LargeBinary)
    ratings: Mapped[bytes] = mapped_column(LargeBinary)
