"""Staff authentication: session login for pages, bearer tokens for the API, roles."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import UserMixin, current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from kiosk.context import clock
from kiosk.extensions import csrf, db, db_session, limiter, login_manager
from queue_engine.core.kinds import Role
from queue_engine.core.models import Counter, User
from queue_engine.core.numbers import whole_number
from queue_engine.hall.logins import DEFAULT_MAX_FAILURES, change_own_password, end_sessions, login_attempt
from queue_engine.hall.staff import password_problem

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


class StaffUser(UserMixin):  # type: ignore[misc]  # flask_login has no types
    """The logged-in member of staff, as Flask-Login sees them (a thin wrapper)."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = user.id
        self.role = user.role
        self.username = user.username

    @property
    def is_active(self) -> bool:
        """Deactivated staff cannot log in or use tokens."""
        return bool(self.user.active)

    def may_use_counter(self, counter: Counter) -> bool:
        """Supervisors and admins may act at any counter; a clerk at the ones granted."""
        if self.role in (Role.SUPERVISOR, Role.ADMIN):
            return True
        return any(c.id == counter.id for c in self.user.counters)


def hash_password(password: str) -> str:
    """A salted, slow hash of a password."""
    return generate_password_hash(password)


def token_digest(token: str) -> str:
    """API tokens are random and long, so a plain SHA-256 of them is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> str:
    """Give a user a new API token (replacing any old one); only the digest is stored."""
    token = "qms_" + secrets.token_urlsafe(32)
    user.api_token_hash = token_digest(token)
    return token


def check_login(username: str, password: str) -> User | None:
    """The active, unlocked user with these credentials, if any; the attempt is counted.

    Wrong passwords in a row lock the account (queue_engine/hall/logins.py); whatever refused
    the attempt, the caller answers the same, so that nobody learns whether a user exists.
    """
    query = select(User).where(User.username == username)
    # No username holds NUL, and PostgreSQL fails on NUL in a query rather than finding none.
    user = None if "\x00" in username else db.session.scalars(query).first()
    if user is None or not user.active or not user.password_hash:
        # Same cost whether or not the user exists, so timing does not reveal usernames.
        check_password_hash(_DUMMY_HASH, password)
        return None
    password_ok = check_password_hash(user.password_hash, password)
    limit = int(current_app.config.get("QMS_LOGIN_MAX_FAILURES", DEFAULT_MAX_FAILURES))
    allowed = login_attempt(db_session(), clock(), user, password_ok, limit)
    db.session.commit()
    return user if allowed else None


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))


def _api_call_by_token() -> bool:
    """Whether this is an API request naming its caller with a bearer token."""
    return request.blueprint == "api" and request.headers.get("Authorization", "").startswith("Bearer ")


def _load_user(user_id: str) -> StaffUser | None:
    # Never asked for a bearer call (StaffLoginManager): such calls skip CSRF, so they are
    # judged by their token alone and the cookie must not ride along.
    number = whole_number(user_id)
    user = db.session.get(User, number) if number is not None else None
    if user is None or not user.active:
        return None
    # A cookie from before a log-out, a password reset or a deactivation logs nobody in.
    if session.get(SESSION_GENERATION, 0) != (user.session_generation or 0):
        return None
    return StaffUser(user)


def _load_bearer(req: Any) -> StaffUser | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    digest = token_digest(header.removeprefix("Bearer ").strip())
    user = db.session.scalars(select(User).where(User.api_token_hash == digest)).first()
    if user is None or not user.active:
        return None
    g.auth_by_token = True
    return StaffUser(user)


def staff() -> StaffUser:
    """The authenticated member of staff of this request."""
    return cast(StaffUser, current_user._get_current_object())


def roles_required(*roles: str) -> Callable[[F], F]:
    """Refuse anonymous callers (401) and other roles (403)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if request.blueprint == "api":
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and staff().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


STAFF_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)
MANAGER_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def _csrf_check() -> None:
    # Forms and cookie-authenticated API calls must carry the CSRF token; token-authenticated
    # and anonymous public API calls cannot be forged through a visitor's browser session.
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.routing_exception is not None:
        return  # no view runs: answer the 404/405, not a CSRF failure
    if _api_call_by_token() or (request.blueprint == "api" and "_user_id" not in session):
        return
    csrf.protect()


def _password_change_first() -> Any:
    # A password someone else chose: nothing but choosing one's own (or logging out) until then.
    if not current_user.is_authenticated or getattr(g, "auth_by_token", False):
        return None
    if not staff().user.must_change_password:
        return None
    if request.endpoint in ("auth.change_password", "auth.logout", "static"):
        return None
    if request.blueprint == "api":
        abort(403, "Choose a new password first (/password). / 请先修改密码。")
    return redirect(url_for("auth.change_password", next=safe_next(request.full_path)))


def init_app(app: Flask) -> None:
    """Hook CSRF checking, the log-in view and the forced password change into the app."""
    app.config.setdefault("QMS_LOGIN_MAX_FAILURES", DEFAULT_MAX_FAILURES)
    app.before_request(_csrf_check)
    app.before_request(_password_change_first)
    login_manager.by_token = _api_call_by_token
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_bearer)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"


def safe_next(target: str | None) -> str | None:
    """A same-site path to go on to after log-in, or None for anything that could leave the site.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so a slash,
    a tab and ``/evil.example`` means ``//evil.example``: control characters and spaces are
    taken out and backslashes read as slashes before the path is judged, and only a plain path
    on this host remains.
    """
    if not target:
        return None
    cleaned = "".join(ch for ch in target if unicodedata.category(ch)[0] != "C" and not ch.isspace())
    cleaned = cleaned.replace("\\", "/")
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return None
    return cleaned


LOGIN_REFUSED = (
    "Wrong username or password, or locked after too many tries (wait 15 minutes). "
    "/ 用户名或密码错误，或错误次数过多已锁定（请 15 分钟后再试）。"
)
SESSION_GENERATION = "gen"
LANDING = {Role.CLERK: "counter.choose", Role.SUPERVISOR: "supervisor.live", Role.ADMIN: "admin.index"}


def _failed(response: Any) -> bool:
    return bool(response.status_code == 401)


def _address_limit() -> str:
    return str(current_app.config.get("QMS_LOGIN_ADDRESS_LIMIT", "30/minute;200/hour"))


def landing(user: User) -> str:
    """Where a member of staff goes after logging in when no page was asked for."""
    return url_for(LANDING.get(Role(user.role), "pages.home"))


def start_session(user: User) -> None:
    """Log a member of staff in on this browser, tied to their current session generation."""
    session.permanent = True
    login_user(StaffUser(user))
    session[SESSION_GENERATION] = user.session_generation or 0


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed, scope="login")
def login() -> Any:
    """The staff login form; wrong passwords are throttled per address and lock the account."""
    error = None
    if request.method == "POST":
        user = check_login(request.form.get("username", "")[:64], request.form.get("password", "")[:256])
        if user is not None:
            start_session(user)
            wanted = safe_next(request.args.get("next"))
            if user.must_change_password:
                return redirect(url_for("auth.change_password", next=wanted))
            return redirect(wanted or landing(user))
        error = LOGIN_REFUSED
    status = 401 if error else 200
    return render_template("auth/login.html", error=error), status


@bp.route("/password", methods=["GET", "POST"])
def change_password() -> Any:
    """Choose one's own password (required after an admin's reset or a random demo password)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    user = staff().user
    error = None
    if request.method == "POST":
        new = request.form.get("password", "")[:300]
        if not check_password_hash(user.password_hash, request.form.get("current", "")[:256]):
            error = "The current password is wrong. · 当前密码不正确。"
        elif new != request.form.get("confirm", ""):
            error = "The two new passwords differ. · 两次输入的新密码不一致。"
        elif new and check_password_hash(user.password_hash, new):
            error = "Choose a password other than the current one. · 新密码不能与当前密码相同。"
        else:
            error = password_problem(new, user.username)
        if error is None:
            change_own_password(db_session(), clock(), user, hash_password(new))
            db.session.commit()
            start_session(user)  # this browser stays logged in; every other session ends
            flash("Password changed. · 密码已修改。")
            return redirect(safe_next(request.args.get("next")) or landing(user))
    status = 422 if error else 200
    return render_template("auth/password.html", error=error, forced=user.must_change_password), status


@bp.post("/logout")
def logout() -> Any:
    """End the staff session, on the server too: a saved copy of the cookie no longer works."""
    if current_user.is_authenticated:
        end_sessions(staff().user)
        db.session.commit()
    logout_user()
    session.pop(SESSION_GENERATION, None)
    flash("Logged out. / 已退出登录。")
    return redirect(url_for("auth.login"))
