"""The /api/v1 contract as typed models: request bodies, query strings and answers.

The OpenAPI document is generated from these (kiosk.api.openapi). Request models are parsed
strictly (no type coercion, unknown fields refused); where the engine owns a value rule (a
visit record's outcome and lengths, a rating's range) the model only documents it, and the
engine's refusal is the answer. Answer models describe the dicts the engine's snapshots build;
the test suite checks every answer it receives against them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from queue_engine.core.models import Category, CounterState, Outcome, TicketStatus
from queue_engine.quality.complaints import COMPLAINT_PRIORITIES
from queue_engine.quality.ratings import MAX_COMMENT
from queue_engine.queue.snapshots import board_filter
from queue_engine.queue.visit_record import FIELD_LIMITS

# -- Building blocks ----------------------------------------------------------------------------

NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store NUL in text: refused at the door, not on write

Text = Annotated[str, StringConstraints(pattern=NO_NUL)]


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None


IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]


def _named(kind: type[StrEnum]) -> WithJsonSchema:
    """An enum's values written inline, so each schema reads on its own."""
    return WithJsonSchema({"type": "string", "enum": [member.value for member in kind]})


def _comma_list(value: Any) -> Any:
    # A board's services, read as the board's own page reads them (one rule: board_filter).
    return board_filter(value, "")[0] if isinstance(value, str) else value


def _comma_ints(value: Any) -> Any:
    # Lenient as the board's URL always was: what is not a counter id is left out.
    return board_filter("", value)[1] if isinstance(value, str) else value


StatusName = Annotated[TicketStatus, _named(TicketStatus)]
CounterStateName = Annotated[CounterState, _named(CounterState)]
Instant = datetime  # ISO 8601 UTC text, e.g. 2026-01-05T01:00:00Z
Day = date  # YYYY-MM-DD; a name a field called "date" cannot shadow


class Body(BaseModel):
    """A JSON request body: exact types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    """A query string: text read leniently into values; other arguments are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Answer(BaseModel):
    """A JSON answer: every field always present, none beyond these."""

    model_config = ConfigDict(extra="forbid")


# -- Request bodies -----------------------------------------------------------------------------


class NoFields(Body):
    """An action that takes no fields: no body, or an empty JSON object."""


class IssueTicket(Body):
    """Take a number."""

    service: Annotated[Text, Field(max_length=16, description="service code, e.g. A")]
    lang: Text | None = Field(None, description="one of the hall's languages (QMS_LANGUAGES)")
    priority: bool | None = Field(None, description="a priority ticket (elderly, disabled visitors)")


def _score(description: str) -> Any:
    return Field(None, description=description, json_schema_extra={"minimum": 1, "maximum": 5})


class RateVisit(Body):
    """The holder's rating of the finished visit: 1 (very unhappy) to 5 (very happy)."""

    score: int = Field(description="overall level", json_schema_extra={"minimum": 1, "maximum": 5})
    comment: Text | None = Field(None, json_schema_extra={"maxLength": MAX_COMMENT})
    efficiency: int | None = _score("efficiency of the service")
    level: int | None = _score("the clerk's knowledge")
    attitude: int | None = _score("the clerk's attitude")


def _record_text(name: str) -> Any:
    return Field(None, json_schema_extra={"maxLength": FIELD_LIMITS[name]})


class FinishVisit(Body):
    """The visit's record; personal data stays on the visit, never in answers or events."""

    outcome: Text = Field(json_schema_extra={"enum": [o.value for o in Outcome]})
    customer_name: Text | None = _record_text("customer_name")
    contact: Text | None = _record_text("contact")
    description: Text | None = _record_text("description")
    notes: Text | None = _record_text("notes")
    department: Text | None = Field(
        None, description="opens a complaint for this department", json_schema_extra={"maxLength": 128}
    )
    priority: Text | None = Field(
        None,
        description="the complaint's priority, default normal",
        json_schema_extra={"enum": [*COMPLAINT_PRIORITIES, None]},
    )
    due_date: IsoDate | None = Field(None, description="the complaint's due date")


class TransferTicket(Body):
    """Send the visitor to another service's queue."""

    service: Annotated[Text, Field(max_length=16, description="the other service's code")]


class CallTicket(Body):
    """Call one waiting ticket out of order."""

    ticket: Annotated[Text, Field(max_length=48, description="its number (e.g. A012) or token")]
    reason: Annotated[Text, Field(max_length=500, description="why it is called out of order")]


class CloseCounter(Body):
    """Go off duty."""

    handover_note: Annotated[Text, Field(max_length=4000)] | None = Field(
        None, description="for the next shift at this counter"
    )


# -- Query strings ------------------------------------------------------------------------------


class LanguageQuery(Query):
    """Names in a language."""

    lang: str | None = Field(
        None, description="one of QMS_LANGUAGES; else the browser's choice, else the hall's first"
    )


class DisplayQuery(Query):
    """One area of the hall."""

    services: Annotated[list[str], BeforeValidator(_comma_list)] = Field(
        default_factory=list, description="service codes, comma-separated, e.g. A,B"
    )
    counters: Annotated[list[int], BeforeValidator(_comma_ints)] = Field(
        default_factory=list, description="counter ids, comma-separated, e.g. 1,2"
    )


class RatingQuery(Query):
    """Where the rating was given."""

    via: str = Field("phone", description="the channel, e.g. phone or counter (at most 16 characters)")


class DailyQuery(Query):
    """Which day, and how many ratings make a ranking."""

    # Read by the one date rule (DateRange.day), so its message is the one every page gives.
    date: Annotated[str | None, WithJsonSchema({"type": "string", "format": "date"})] = Field(
        None, description="the business day, default today in the hall"
    )
    min_ratings: Annotated[
        str | None, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 100_000})
    ] = Field(None, description="ratings a clerk or counter needs to be ranked (QMS_RANKING_MIN_RATINGS)")


class RatingsQuery(Query):
    """A range of business days and the export's format."""

    from_: IsoDate | None = Field(None, alias="from", description="first business day, default today")
    to: IsoDate | None = Field(None, description="last business day, default from")
    format: Literal["json", "csv"] = "json"


# -- Answers ------------------------------------------------------------------------------------


class ErrorDetail(Answer):
    """What went wrong: a stable code for programs, a sentence for people."""

    code: str
    message: str


class Error(Answer):
    """Every refusal under /api/v1 (DESIGN §7)."""

    error: ErrorDetail


class Service(Answer):
    """A service a visitor may take a number for."""

    code: str
    prefix: str
    name: str = Field(description="in the language asked for")
    names: dict[str, str] = Field(description="per language")
    category: Annotated[Category, _named(Category)]
    active: bool
    served: bool = Field(description="some active counter serves it; false: tickets are refused (409)")
    waiting: int
    estimated_wait_s: int = Field(description="for a ticket taken now")


class CounterRef(Answer):
    """The counter a called or served ticket goes to."""

    id: int
    name: str


class Ticket(Answer):
    """A ticket as its holder and the API see it."""

    token: str = Field(description="unguessable; the visitor's URL /t/<token>")
    number: str = Field(examples=["A012"])
    service: str
    service_name: dict[str, str]
    status: StatusName
    position: int | None = Field(description="1 = next to be called; null unless waiting")
    ahead: int | None = Field(description="waiting tickets called before this one")
    estimated_wait_s: int | None
    counter: CounterRef | None = Field(description="while called or served")
    issued_at: Instant
    called_at: Instant | None
    started_at: Instant | None
    finished_at: Instant | None
    call_count: int
    priority: bool
    lang: str
    business_date: date
    transferred_from: str | None = Field(description="the service it was transferred from")
    rated: bool
    can_rate: bool


class CalledTicket(Answer):
    """The ticket a counter called."""

    ticket: Ticket


class RatingStored(Answer):
    """The rating was stored."""

    token: str
    number: str
    score: int


class Call(Answer):
    """A counter's active call on the board."""

    number: str
    service: str
    counter: str | None
    counter_id: int | None
    called_at: Instant | None
    call_count: int
    lang: str | None = Field(None, description="the visitor's language, for announcing")


class RecentCall(Answer):
    """One of the last numbers called."""

    number: str
    service: str
    counter: str | None
    counter_id: int | None
    called_at: Instant | None
    status: StatusName


class BoardService(Answer):
    """A service shown on the board."""

    code: str
    names: dict[str, str]


class CounterBoard(Answer):
    """A counter's panel on the board: the last number it called today."""

    id: int
    name: str
    state: CounterStateName
    services: list[str]
    number: str | None
    service: str | None
    called_at: Instant | None


class Display(Answer):
    """What a hall board shows."""

    hall: dict[str, str] = Field(description="the hall's name per language")
    now_serving: list[Call]
    recent: list[RecentCall]
    waiting: dict[str, int] = Field(description="waiting tickets per service code")
    services: list[BoardService]
    counters: list[CounterBoard]
    generated_at: Instant


class HeldTicket(Answer):
    """The ticket a counter holds (no personal data)."""

    token: str
    number: str
    status: StatusName


class Counter(Answer):
    """A counter as staff see it."""

    id: int
    name: str
    state: CounterStateName
    state_since: Instant | None
    services: list[str]
    staff: str | None = Field(description="username of the clerk on duty")
    ticket: HeldTicket | None


class OpenedCounter(Counter):
    """A counter just opened, with the last shift's handover note."""

    handover_note: str = Field(description="'' when the last shift left none")


class Durations(Answer):
    """Whole-second durations: count, mean, median, 90th percentile (nearest rank)."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None


class OverTarget(Answer):
    """Waits longer than the service's target."""

    count: int
    of: int
    share: float | None


class Satisfaction(Answer):
    """Ratings: how many, their mean and spread, coverage and the 满意率."""

    ratings: int
    mean: float | None
    distribution: dict[str, int] = Field(description="ratings per level '1'..'5'")
    response_rate: float | None = Field(description="rated visits / served visits")
    satisfaction_rate: float | None = Field(description="levels 4 and 5 among the ratings")
    bad: int = Field(description="levels 1 and 2")


class Counts(Answer):
    """Ticket volumes."""

    issued: int
    served: int
    no_show: int
    cancelled: int
    expired: int
    open: int
    transferred_out: int


class Totals(Counts):
    """A group's volumes, times and ratings."""

    wait: Durations
    walk: Durations
    service_time: Durations
    over_target: OverTarget
    satisfaction: Satisfaction


class ServiceFigures(Totals):
    """One service's figures (by the service a ticket was issued for)."""

    service_id: int
    code: str
    name: dict[str, str]
    target_wait_min: int | None


class PersonFigures(Answer):
    """What one clerk or counter did."""

    served: int
    no_show: int
    transferred_out: int
    service_time: Durations
    satisfaction: Satisfaction


class StaffFigures(PersonFigures):
    """One clerk's figures."""

    user_id: int
    username: str | None
    display_name: str | None


class CounterFigures(PersonFigures):
    """One counter's figures."""

    counter_id: int
    name: str


class RankedStaff(StaffFigures):
    """A clerk in the ranking."""

    rank: int


class RankedCounter(CounterFigures):
    """A counter in the ranking."""

    rank: int


class Ranking(Answer):
    """Clerks and counters with enough ratings, best first."""

    min_ratings: int
    staff: list[RankedStaff]
    counters: list[RankedCounter]


class HourFigures(Answer):
    """Tickets issued and served in one hour of the day (hall time)."""

    hour: int
    issued: int
    served: int


class ComplaintFigures(Answer):
    """Complaints raised at the period's visits."""

    opened: int
    resolved: int
    open: int
    overdue: int


class QualityFigures(Answer):
    """Bad ratings' rectification cases and their follow-up calls."""

    cases: int
    rectified: int
    rectified_on_time: int
    on_time_rate: float | None
    overdue: int
    followed_up: int
    follow_up_rate: float | None
    reached: int
    reply_rate: float | None


class ReportFilters(Answer):
    """The filters a report was made with (none for the daily summary)."""

    service: str | None
    counter: int | None
    clerk: str | None


class DailySummary(Answer):
    """One business day's report: volumes, times, ratings, per service, hour, clerk and counter."""

    model_config = ConfigDict(populate_by_name=True)

    date: Day
    from_: Day = Field(alias="from")
    to: Day
    days: int
    filters: ReportFilters
    totals: Totals
    hours: list[HourFigures]
    services: list[ServiceFigures]
    staff: list[StaffFigures]
    counters: list[CounterFigures]
    complaints: ComplaintFigures
    quality: QualityFigures
    ranking: Ranking


class RatingRecord(Answer):
    """One rated visit for the provincial review platform (好差评): no contact data."""

    visit_number: str
    business_date: date
    service: str
    counter: str | None
    clerk_id: int | None
    issued_at: Instant
    called_at: Instant | None
    finished_at: Instant
    rated_at: Instant | None
    level: int = Field(description="1-5")
    level_name: str | None = Field(description="e.g. 非常满意")
    efficiency: int | None
    service_level: int | None
    attitude: int | None
    comment: str
    channel: str | None


class RatingsExport(Answer):
    """Rated visits of a range of business days (format=csv: the same fields as columns)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    count: int
    ratings: list[RatingRecord]
