"""What callers send: JSON request bodies and query strings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from kiosk.api.models.base import Body, IsoDate, Query, Text
from queue_engine.core.kinds import Outcome
from queue_engine.quality.complaints import COMPLAINT_PRIORITIES
from queue_engine.quality.ratings import MAX_COMMENT
from queue_engine.queue.snapshots import board_filter
from queue_engine.queue.visit_record import FIELD_LIMITS

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


class TabletRating(RateVisit):
    """A rating given on a counter's tablet, naming the visit the tablet asked about."""

    ticket: Text = Field(description="the token of the visit's ticket, as the tablet's prompt gave it")


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


def _comma_list(value: Any) -> Any:
    # A board's services, read as the board's own page reads them (one rule: board_filter).
    return board_filter(value, "")[0] if isinstance(value, str) else value


def _comma_ints(value: Any) -> Any:
    # Lenient as the board's URL always was: what is not a counter id is left out.
    return board_filter("", value)[1] if isinstance(value, str) else value


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

    # Only the channels a visitor may claim: "tablet" is the counter's tablet's own route.
    via: Literal["phone", "web"] = Field("phone", description="the channel: the visitor's phone or the web")


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
