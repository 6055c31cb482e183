"""Named domain errors: each carries a stable code and the HTTP family it maps to."""

from __future__ import annotations


class QueueError(Exception):
    """Base of every refusal the engine can make."""

    code = "queue_error"
    kind = "conflict"  # one of: not_found, conflict, invalid, forbidden

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message or self.__doc__ or self.code)
        # What a page needs to say it in the visitor's language (a time, a date, a ticket).
        self.details = details

    @property
    def message(self) -> str:
        """The human sentence for this refusal."""
        return str(self.args[0])


class NotFound(QueueError):
    """The thing asked for does not exist."""

    code = "not_found"
    kind = "not_found"


class UnknownService(NotFound):
    """No such service."""

    code = "unknown_service"


class UnknownTicket(NotFound):
    """No such ticket."""

    code = "unknown_ticket"


class UnknownCounter(NotFound):
    """No such counter."""

    code = "unknown_counter"


class UnknownUser(NotFound):
    """No such user."""

    code = "unknown_user"


class NoTicketWaiting(QueueError):
    """Nobody is waiting for the services of this counter."""

    code = "no_ticket_waiting"


class CounterBusy(QueueError):
    """The counter already holds an active ticket; finish, transfer or mark it first."""

    code = "counter_busy"


class CounterClosed(QueueError):
    """The counter is closed."""

    code = "counter_closed"


class CounterPaused(QueueError):
    """The counter is paused."""

    code = "counter_paused"


class CounterInUse(QueueError):
    """Another member of staff is on duty at this counter."""

    code = "counter_in_use"


class NotAtThisCounter(QueueError):
    """The ticket is not held by this counter."""

    code = "not_at_this_counter"


class ServiceClosed(QueueError):
    """The service is not taking tickets now."""

    code = "service_closed"


class ServiceNotServed(QueueError):
    """No counter serves this service now, so nobody would call the ticket."""

    code = "service_not_served"


class HallClosed(QueueError):
    """The hall is outside its opening hours."""

    code = "hall_closed"


class InvalidTransition(QueueError):
    """The ticket is not in a state that allows this action."""

    code = "invalid_transition"


class AlreadyRated(QueueError):
    """This visit has already been rated."""

    code = "already_rated"


class RatingClosed(QueueError):
    """This visit can no longer be rated."""

    code = "rating_closed"


class UnknownTablet(NotFound):
    """No active rating tablet has this token (never registered, or revoked)."""

    code = "unknown_tablet"


class NothingToRate(QueueError):
    """The visit named is not the one the counter's tablet is asking about now."""

    code = "nothing_to_rate"


class InvalidInput(QueueError):
    """A value given to the engine is not acceptable."""

    code = "invalid_input"
    kind = "invalid"


class InvalidFields(InvalidInput):
    """Some fields of a form or request body are not acceptable; ``errors`` names each one."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        field, message = next(iter(self.errors.items()))
        super().__init__(f"{field}: {message}")

    @property
    def field(self) -> str:
        """The first field refused."""
        return next(iter(self.errors))


class UnknownBooking(NotFound):
    """No such booking."""

    code = "unknown_booking"


class BookingClosed(QueueError):
    """The service takes no bookings, or not for this day or slot (too far ahead, past its cut-off)."""

    code = "booking_closed"
    kind = "invalid"


class SlotFull(QueueError):
    """Every place of this slot is taken."""

    code = "slot_full"


class AlreadyBooked(QueueError):
    """This mobile number already holds a booking for this service on this day."""

    code = "already_booked"


class BookingBlocked(QueueError):
    """This mobile number missed too many bookings lately and may not book for a while."""

    code = "booking_blocked"
    kind = "forbidden"


class TooEarly(QueueError):
    """Check-in for this booking is not open yet."""

    code = "too_early"


class TooLate(QueueError):
    """Check-in for this booking has closed: the booking is missed."""

    code = "too_late"


class AlreadyCheckedIn(QueueError):
    """This booking is checked in already (``details["ticket"]``: the ticket it got)."""

    code = "already_checked_in"
