"""What the admin pages share: who may enter, form state, reading forms, answering HTMX or not.

Each editable thing (a service, a counter, a user, the hall) is one self-contained form
partial (``hx-target="this" hx-swap="outerHTML"``).  An HTMX request gets the partial alone;
a plain form post (no JavaScript) gets the whole page with that one form in the same state.
A refused form comes back with what was typed and a message by each field (status 422).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from kiosk import runtime as hall_runtime
from kiosk.auth import staff
from kiosk.htmx import is_htmx
from queue_engine.core.kinds import Category, PriorityPolicy, Role
from queue_engine.core.numbers import whole_number
from queue_engine.hall.rules import SettingsInvalid

CATEGORY_LABELS = {
    Category.INQUIRY: "Inquiry · 咨询",
    Category.TRANSACTION: "Transaction · 办理",
    Category.COMPLAINT: "Complaint · 投诉",
    Category.OTHER: "Other · 其他",
}
ROLE_LABELS = {
    Role.CLERK: "Clerk · 窗口人员",
    Role.SUPERVISOR: "Supervisor · 值班长",
    Role.ADMIN: "Admin · 管理员",
}
POLICY_LABELS = {
    PriorityPolicy.STRICT: "First come, first served (priority flag ignored) · 严格按取号顺序",
    PriorityPolicy.PRIORITY_FIRST: "Priority tickets first · 优先号优先",
    PriorityPolicy.EVERY_N: "One priority ticket after every N others · 每叫 N 个普通号后叫一个优先号",
}
WEEKDAY_LABELS = ["Monday · 周一", "Tuesday · 周二", "Wednesday · 周三", "Thursday · 周四", "Friday · 周五",
                  "Saturday · 周六", "Sunday · 周日"]  # fmt: skip
SAVED = "Saved. · 已保存。"
REFUSED = "Not saved: please correct the marked fields. · 未保存：请修改标出的项。"


@dataclass
class FormState:
    """One form as shown: its values (as typed, or as stored), field errors and a message."""

    values: dict[str, Any]
    id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    ok: bool = True
    secret: str | None = None  # a token, password or link shown once, never stored
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> int:
        """422 for a refused form, else 200."""
        return 422 if self.errors else 200


def refused(state: FormState, error: SettingsInvalid) -> FormState:
    """The same form with the engine's field errors and the 'not saved' message."""
    state.errors = error.errors
    state.message, state.ok = REFUSED, False
    return state


def admins_only() -> Any:
    """Anonymous: to the login page (HTMX and scripts: 401); other roles 403; tokens are not enough."""
    if not current_user.is_authenticated:
        if is_htmx() or request.accept_mimetypes.best == "application/json":
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path))
    if g.get("auth_by_token"):
        abort(401)  # the admin pages take the login session (and its CSRF token), not API tokens
    if staff().role != Role.ADMIN:
        abort(403)
    return None


def answer(partial: str, state: FormState, page: Callable[[FormState], str], **context: Any) -> Any:
    """The form's partial for HTMX, else the whole page holding the form in this state."""
    body = render_template(partial, form=state, **context) if is_htmx() else page(state)
    return body, state.status


def checked(form: MultiDict[str, str], name: str) -> bool:
    """A checkbox's value."""
    return form.get(name) in ("on", "true", "1", "y")


def ids(values: list[str]) -> list[Any]:
    """Ids from checkboxes; anything else is passed on as it is, for the engine to refuse."""
    return [v if whole_number(v) is None else whole_number(v) for v in values]


def actor_id() -> int:
    """The admin making the change."""
    return int(staff().id)


def merged(states: list[FormState], replacement: FormState | None) -> list[FormState]:
    """A page's forms with one replaced by the form being answered (same id)."""
    if replacement is None or replacement.id is None:
        return states
    return [replacement if s.id == replacement.id else s for s in states]


def effective_locale() -> dict[str, Any]:
    """The timezone and languages in force, and the defaults they replace (hall settings may)."""
    state = hall_runtime.runtime(current_app)
    return {
        "timezone": current_app.config["QMS_TIMEZONE"],
        "languages": list(current_app.config["QMS_LANGUAGES"]),
        "default_timezone": state.default_timezone,
        "default_languages": state.default_languages,
    }
