"""Extensions, created once here and bound to the app in the factory."""

from __future__ import annotations

from collections.abc import Callable

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from queue_engine.core.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()


class StaffLoginManager(LoginManager):  # type: ignore[misc]  # flask_login has no types
    """Flask-Login, except that a call naming its caller by token is judged by the token alone.

    Its "strong" session protection would otherwise refuse a bearer call whose cookie session
    holds anything (a CSRF token from a page fetched first) but no log-in, and never ask the
    request loader; for such calls the cookie session is neither read nor changed.
    ``by_token`` (set by kiosk.auth) tells those calls apart.
    """

    by_token: Callable[[], bool] = staticmethod(lambda: False)

    def _load_user(self) -> None:
        if not self.by_token():
            super()._load_user()
            return
        self._update_request_context_with_user(self._load_user_from_request(request))


login_manager = StaffLoginManager()
csrf = CSRFProtect()
# Redis down (QMS_REDIS_URL): each process counts the limits in memory until it answers again,
# logging the outage once ("Rate limit storage unreachable - falling back to in-memory storage").
limiter = Limiter(
    key_func=get_remote_address, default_limits=[], in_memory_fallback_enabled=True, swallow_errors=True
)


def db_session() -> Session:
    """This app context's session itself, for the engine's functions that take a ``Session``.

    ``db.session`` is a scoped proxy that forwards every call to this same object, but it is
    not typed as a ``Session``.
    """
    return db.session()
