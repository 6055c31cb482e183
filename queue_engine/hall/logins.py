"""Log-in safety for staff accounts (DESIGN §13, 等保 2.0 login failure handling).

* After ``max_failures`` wrong passwords in a row an account is locked for ``LOCK_MINUTES``;
  the right password does not open it meanwhile.  Locks and an admin's unlock are audited.
* A password someone else chose (the demo seed's, an admin's reset) is changed by its owner
  at the next log-in.
* Every staff session carries its user's session generation; bumping it (log-out, password
  reset or change, deactivation) ends every session of that user, wherever its cookie is.

The answer to a refused log-in never says which of these refused it, nor whether the user
exists: the web layer shows one sentence for all.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.models import User
from queue_engine.hall.audit import audit

LOCK_MINUTES = 15
DEFAULT_MAX_FAILURES = 10


def is_locked(user: User, clock: Clock) -> bool:
    """Whether the account is locked now."""
    return user.locked_until is not None and user.locked_until > clock.now()


def login_attempt(session: Session, clock: Clock, user: User, password_ok: bool, max_failures: int) -> bool:
    """Count one log-in attempt on an account; whether it may log in now.

    ``max_failures`` 0 turns the lock off.  A lock that has run out is lifted here.
    """
    if is_locked(user, clock):
        return False
    if user.locked_until is not None:
        user.locked_until = None
        user.failed_logins = 0
    if password_ok:
        user.failed_logins = 0
        return True
    user.failed_logins = (user.failed_logins or 0) + 1
    if max_failures and user.failed_logins >= max_failures:
        user.locked_until = clock.now() + timedelta(minutes=LOCK_MINUTES)
        audit(
            session,
            clock,
            None,
            "lock_account",
            f"user:{user.username}",
            after={"failures": user.failed_logins, "minutes": LOCK_MINUTES},
        )
        user.failed_logins = 0
    return False


def unlock(session: Session, clock: Clock, actor_id: int | None, user: User) -> bool:
    """Lift an account's lock (an admin's act, audited); whether it was locked."""
    was_locked = is_locked(user, clock)
    user.locked_until = None
    user.failed_logins = 0
    if was_locked:
        audit(session, clock, actor_id, "unlock_account", f"user:{user.username}", after={"locked": False})
    return was_locked


def end_sessions(user: User) -> None:
    """End every session of a user: their cookies no longer log anyone in."""
    user.session_generation = (user.session_generation or 0) + 1


def change_own_password(session: Session, clock: Clock, user: User, password_hash: str) -> None:
    """A member of staff chose their own new password (checked by ``password_problem``)."""
    user.password_hash = password_hash
    user.must_change_password = False
    end_sessions(user)
    audit(session, clock, user.id, "change_password", f"user:{user.username}", after={"password": "changed"})
