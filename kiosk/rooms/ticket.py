"""The visitor's ticket page on their phone (the QR on the ticket opens it): live, no login."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from kiosk.actions import action
from kiosk.context import clock, languages
from kiosk.errors import error_body
from kiosk.extensions import db_session
from kiosk.htmx import is_htmx
from queue_engine import cancel, rate_visit
from queue_engine.booking.views import mask_phone
from queue_engine.core.errors import AlreadyRated, InvalidFields, QueueError, RatingClosed
from queue_engine.core.kinds import TicketStatus
from queue_engine.core.lookups import ticket_by_token
from queue_engine.core.models import Ticket
from queue_engine.notify.channels_push import push_public_key
from queue_engine.notify.visitors import allow_push, channel_state, leave_phone, ticket_phone
from queue_engine.quality.ratings import MAX_COMMENT, Rating
from queue_engine.queue.coverage import calls_now
from queue_engine.queue.snapshots import ticket_view

bp = Blueprint("ticket", __name__, url_prefix="/t")


def rating_words() -> dict[int, str]:
    """The five levels of the national good/bad review scale, in the page's language."""
    return {
        5: gettext("Very satisfied"),
        4: gettext("Satisfied"),
        3: gettext("Basically satisfied"),
        2: gettext("Dissatisfied"),
        1: gettext("Very dissatisfied"),
    }


def holder_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Load the token's ticket for a view (a friendly page when unknown) in the ticket's language."""

    @wraps(view)
    def wrapped(token: str) -> Any:
        try:
            ticket = ticket_by_token(db_session(), token)
        except QueueError:
            return render_template("ticket/unknown.html"), 404
        # The ticket keeps the language the visitor chose at the kiosk, unless they switch here.
        asked = request.args.get("lang")
        g.lang = asked if asked in languages() else ticket.lang
        return view(ticket)

    return wrapped


# From this many tickets ahead (or fewer) the page says 快到您了 · Almost your turn.
ALMOST_AHEAD = 3


def _sms_context(ticket: Ticket) -> dict[str, Any]:
    """Whether the page offers "Text me before my turn", and the number left (masked)."""
    session = db_session()
    waiting = ticket.status == TicketStatus.WAITING
    offer = waiting and channel_state(session).sms_on
    left = ticket_phone(session, ticket) if offer else ""
    return {
        "sms_offer": offer,
        "sms_masked": mask_phone(left) if left else "",
        "push_key": push_public_key() if waiting else "",
    }


def _render(ticket: Ticket, template: str = "ticket/page.html", **extra: Any) -> Any:
    extra = {**_sms_context(ticket), **extra}
    return render_template(
        template,
        ticket=ticket_view(db_session(), clock(), ticket),
        calls=calls_now(db_session(), ticket.service_id),
        almost_ahead=ALMOST_AHEAD,
        service_name=ticket.service.name(g.lang),
        words=rating_words(),
        max_comment=MAX_COMMENT,
        **extra,
    )


@bp.get("/<token>")
@holder_page
def page(found: Ticket) -> Any:
    """The live ticket: number, position, estimate; 'go to counter N' when called; rating after."""
    return _render(found)


@bp.get("/<token>/calls")
@holder_page
def calls(found: Ticket) -> Any:
    """The numbers now called at the counters serving the ticket, as a fragment (the open page is
    kept up to date by the ``queue:calls`` pushes, without asking)."""
    now = calls_now(db_session(), found.service_id)
    return render_template("ticket/_calls.html", calls=now, ticket=found)


@bp.post("/<token>/cancel")
@holder_page
def cancel_ticket(found: Ticket) -> Any:
    """The visitor gives up their place."""
    with action() as done:
        cancel(db_session(), clock(), found.token)
    if done.error:
        return _render(
            found, "ticket/_status.html", notice=gettext("This ticket can no longer be cancelled.")
        ), 409
    return _render(found, "ticket/_status.html")


@bp.post("/<token>/rating")
@holder_page
def rate(found: Ticket) -> Any:
    """The visitor's 1-5 rating of the finished visit (once); never by a logged-in member of staff."""
    comment = request.form.get("comment", "")
    if current_user.is_authenticated:
        # A clerk holding the visitor's phone (or the link) would otherwise rate their own visit.
        notice = gettext("Staff cannot rate a visit: the visitor rates it on their own phone.")
        return _render(found, "ticket/_rating.html", notice=notice, comment=comment), 403
    try:
        rating = Rating.parse(request.form, text=True)
    except InvalidFields as refused:
        if "comment" in refused.errors:
            notice = gettext(
                "Your comment is longer than %(limit)s characters. Please shorten it and send again.",
                limit=MAX_COMMENT,
            )
        else:
            notice = gettext("Please choose one of the five faces.")
        return _render(found, "ticket/_rating.html", notice=notice, comment=comment), 422
    with action() as done:
        rate_visit(
            db_session(),
            clock(),
            found.token,
            rating.score,
            comment=rating.comment,
            efficiency=rating.efficiency,
            level=rating.level,
            attitude=rating.attitude,
            source="phone",
        )
    if isinstance(done.error, AlreadyRated):
        return _render(
            found, "ticket/_rating.html", notice=gettext("This visit has already been rated. Thank you!")
        ), 409
    if isinstance(done.error, RatingClosed):
        return _render(
            found, "ticket/_rating.html", notice=gettext("The time to rate this visit has passed.")
        ), 409
    if done.error:
        return _render(
            found,
            "ticket/_rating.html",
            notice=gettext("Please choose one of the five faces."),
            comment=comment,
        ), 422
    return _render(found, "ticket/_rating.html", thanks=True)


@bp.post("/<token>/sms")
@holder_page
def leave_number(found: Ticket) -> Any:
    """The visitor leaves a number for "N people ahead" and "called" texts (shown back masked)."""
    typed = request.form.get("phone", "")[:32]
    with action() as done:
        contact = leave_phone(db_session(), clock().now(), found, typed)
    if isinstance(done.error, InvalidFields):
        notice = gettext("Please enter a mobile number: 11 digits, or + and the country code.")
        context = {"sms_offer": True, "sms_masked": "", "sms_notice": notice, "sms_typed": typed}
        status = 422
    elif done.error:
        notice = gettext("Texts can be asked for only while you wait.")
        context = {"sms_offer": True, "sms_masked": "", "sms_notice": notice}
        status = 409
    else:
        context = {"sms_offer": True, "sms_masked": mask_phone(contact.phone)}
        status = 200
    if not is_htmx():
        if status == 200:
            return redirect(url_for("ticket.page", token=found.token), 303)
        return _render(found, **context), status
    return render_template("ticket/_sms.html", ticket=found, **context), status


@bp.post("/<token>/push")
@holder_page
def allow_notifications(found: Ticket) -> Any:
    """The page was allowed to show notifications: keep its browser's push subscription."""
    with action() as done:
        allow_push(db_session(), clock().now(), found, request.get_json(silent=True))
    if isinstance(done.error, InvalidFields):
        return error_body("invalid_input", "Not a push subscription.", 422)
    if done.error:
        return error_body(done.error.code, "Notifications can be asked for only while you wait.", 409)
    return "", 204
