"""Administration: the hall's own settings (names, timezone, languages, opening hours, closed and
extra working dates, priority policy, kiosk timing), on the admin blueprint of ``setup``."""

from __future__ import annotations

import re
from itertools import permutations
from typing import Any
from zoneinfo import available_timezones

from flask import current_app, flash, redirect, render_template, request, url_for

from kiosk import runtime as hall_runtime
from kiosk.actions import action
from kiosk.context import clock
from kiosk.extensions import db_session
from kiosk.htmx import is_htmx
from kiosk.i18n import LANGUAGE_NAMES
from kiosk.rooms.admin.forms import (
    POLICY_LABELS,
    SAVED,
    WEEKDAY_LABELS,
    FormState,
    answer,
    checked,
    effective_locale,
    refused,
)
from kiosk.rooms.admin.forms import actor_id as _actor
from kiosk.rooms.admin.setup import bp
from queue_engine.hall.admin import hall_record, save_hall
from queue_engine.hall.calendar import hall_settings
from queue_engine.hall.rules import (
    KNOWN_LANGUAGES,
    NOTICE_MAX,
    WEEKDAYS,
    SettingsInvalid,
    format_hours,
    parse_hours_text,
)

# -- the hall settings page ---------------------------------------------------------------


def language_choices() -> list[tuple[str, str]]:
    """Every ordered choice of the known languages (first = default), e.g. 'zh,en' -> 中文 + English."""
    choices = []
    for size in range(len(KNOWN_LANGUAGES), 0, -1):
        for combo in permutations(KNOWN_LANGUAGES, size):
            label = " + ".join(LANGUAGE_NAMES.get(code, code) for code in combo)
            choices.append((",".join(combo), label))
    return choices


def _hall_state(message: str | None = None) -> FormState:
    values = hall_record(hall_settings(db_session()))
    values["always_open"] = not values["opening_hours"]
    values["hours_text"] = {day: format_hours(values["opening_hours"].get(day, [])) for day in WEEKDAYS}
    values["closed_dates_text"] = "\n".join(values["closed_dates"])
    values["extra_working_dates_text"] = "\n".join(values["extra_working_dates"])
    values["languages_text"] = ",".join(values["languages"] or [])
    return FormState(values=values, id=1, message=message)


def _date_list(text: str) -> list[str]:
    """Dates typed one a line (or separated by commas, semicolons, spaces)."""
    return [d for d in re.split(r"[\s,;，；]+", text) if d]


def _hall_form() -> dict[str, Any]:
    form = request.form
    always_open = checked(form, "always_open")
    hours_text = {day: form.get(f"hours_{day}", "")[:200] for day in WEEKDAYS}
    languages_text = form.get("languages", "").strip()
    closed_text = form.get("closed_dates", "")[:8000]
    extra_text = form.get("extra_working_dates", "")[:8000]
    return {
        "name": {lang: form.get(f"name_{lang}", "")[:200] for lang in KNOWN_LANGUAGES},
        "timezone": form.get("timezone", "").strip()[:64] or None,
        "languages": languages_text.split(",") if languages_text else None,
        "opening_hours": {}
        if always_open
        else {day: parse_hours_text(text) for day, text in hours_text.items()},
        "closed_dates": _date_list(closed_text),
        "extra_working_dates": _date_list(extra_text),
        "priority_policy": form.get("priority_policy", ""),
        "priority_every_n": form.get("priority_every_n", ""),
        "kiosk_ticket_seconds": form.get("kiosk_ticket_seconds", ""),
        "day_close_delay_min": form.get("day_close_delay_min", ""),
        "notice": {lang: form.get(f"notice_{lang}", "")[:1000] for lang in KNOWN_LANGUAGES},
        # as typed, for the form to show again
        "always_open": always_open,
        "hours_text": hours_text,
        "closed_dates_text": closed_text,
        "extra_working_dates_text": extra_text,
        "languages_text": languages_text,
    }


def _hall_context() -> dict[str, Any]:
    return {
        "policies": POLICY_LABELS,
        "weekdays": list(zip(WEEKDAYS, WEEKDAY_LABELS, strict=True)),
        "language_choices": language_choices(),
        "timezones": sorted(available_timezones()),
        "effective": effective_locale(),
        "languages": KNOWN_LANGUAGES,
        "notice_max": NOTICE_MAX,
    }


def _hall_page(state: FormState | None = None) -> str:
    return render_template("admin/hall.html", form=state or _hall_state(), **_hall_context())


@bp.get("/hall")
def hall() -> Any:
    """The hall settings: names, timezone, languages, opening hours, priority policy, kiosk."""
    return _hall_page()


@bp.post("/hall")
def update_hall() -> Any:
    """Save the hall settings; timezone and languages apply at once."""
    state = FormState(values=_hall_form(), id=1)
    with action(SettingsInvalid) as done:
        saved = save_hall(db_session(), clock(), _actor(), state.values)
        timezone, languages = saved.timezone, saved.languages
    if error := done.error:
        refused(state, error)
        return answer("admin/_hall.html", state, _hall_page, **_hall_context())
    hall_runtime.apply(current_app, timezone, languages)
    if not is_htmx():
        flash(SAVED)
        return redirect(url_for(".hall"))
    return render_template("admin/_hall.html", form=_hall_state(SAVED), **_hall_context())
