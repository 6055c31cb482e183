"""Staff authentication: session login for pages, bearer tokens for the API, roles."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Flask,
    abort,
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

from kiosk.extensions import csrf, db, login_manager
from queue_engine.core.kinds import Role
from queue_engine.core.models import Counter, User

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
    """The active user with these credentials, if any."""
    query = select(User).where(User.username == username)
    # No username holds NUL, and PostgreSQL fails on NUL in a query rather than finding none.
    user = None if "\x00" in username else db.session.scalars(query).first()
    if user is None or not user.active or not user.password_hash:
        # Same cost whether or not the user exists, so timing does not reveal usernames.
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))


def _api_call_by_token() -> bool:
    """Whether this is an API request naming its caller with a bearer token."""
    return request.blueprint == "api" and request.headers.get("Authorization", "").startswith("Bearer ")


def _load_user(user_id: str) -> StaffUser | None:
    if _api_call_by_token():
        # Judged by its token alone: such calls skip CSRF, so the cookie must not ride along.
        return None
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return StaffUser(user) if user is not None and user.active else None


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


def init_app(app: Flask) -> None:
    """Hook CSRF checking and the login view into the app."""
    app.before_request(_csrf_check)
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_bearer)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The staff login form."""
    error = None
    if request.method == "POST":
        user = check_login(request.form.get("username", "")[:64], request.form.get("password", "")[:256])
        if user is not None:
            session.permanent = True
            login_user(StaffUser(user))
            return redirect(_safe_next(request.args.get("next")))
        error = "Wrong username or password. / 用户名或密码错误。"
    status = 401 if error else 200
    return render_template("auth/login.html", error=error), status


@bp.post("/logout")
def logout() -> Any:
    """End the staff session."""
    logout_user()
    flash("Logged out. / 已退出登录。")
    return redirect(url_for("auth.login"))
