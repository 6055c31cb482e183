"""The hall's figures as answers show them: daily statistics, rankings, quality, rating exports."""

from __future__ import annotations

from datetime import date

from pydantic import ConfigDict, Field

from kiosk.api.models.base import Answer, Day, Instant


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


class BookingFigures(Answer):
    """Bookings of the period (by their slot's day) and the waits of booked visitors and walk-ins."""

    booked: int = Field(description="every booking of the period, cancelled ones included")
    waiting: int = Field(description="booked, not checked in yet")
    checked_in: int
    missed: int
    cancelled: int
    no_show_rate: float | None = Field(description="missed / (checked in + missed)")
    punctual: int = Field(description="checked in before the slot's start")
    punctuality_rate: float | None = Field(description="punctual / checked in")
    wait_booked: Durations = Field(
        description="source 'appointment': from the later of check-in and slot start to the first call"
    )
    wait_walk_in: Durations = Field(description="every other ticket: from taking the number to the 1st call")


class Accuracy(Answer):
    """How close the estimates shown at issue came to the waits that followed (DESIGN §12)."""

    tickets: int = Field(description="called tickets that kept an estimate")
    close_share: float | None = Field(description="|estimate - wait| <= max(25% of the wait, 120 s)")
    median_abs_error_s: int | None
    bias_s: int | None = Field(description="mean of estimate - wait; negative: too short")


class KindAccuracy(Accuracy):
    """The accuracy of all the tickets, and of walk-in and booked ones apart."""

    walk_in: Accuracy = Field(description="tickets taken at the hall (kiosk, web, API, staff)")
    booked: Accuracy = Field(description="booked tickets (source 'appointment'), from their check-in")


class EstimateAccuracy(KindAccuracy):
    """The period's estimate accuracy, in total and per service (by code)."""

    services: dict[str, KindAccuracy]


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
    bookings: BookingFigures
    ranking: Ranking
    estimate_accuracy: EstimateAccuracy


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
