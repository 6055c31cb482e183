"""Extensions, created once here and bound to the app in the factory."""

from __future__ import annotations

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
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def db_session() -> Session:
    """This app context's session itself, for the engine's functions that take a ``Session``.

    ``db.session`` is a scoped proxy that forwards every call to this same object, but it is
    not typed as a ``Session``.
    """
    return db.session()
