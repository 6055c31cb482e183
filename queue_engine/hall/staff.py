"""Staff accounts as an administrator keeps them: create, change, deactivate, passwords, tokens.

Passwords and tokens arrive already hashed (the web layer owns hashing); neither ever enters
an audit row.  An administrator cannot lock the hall out: the last active admin stays one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_engine.core.clock import Clock
from queue_engine.core.errors import UnknownUser
from queue_engine.core.kinds import Role
from queue_engine.core.models import Counter, User
from queue_engine.hall.audit import audit
from queue_engine.hall.rules import SettingsInvalid

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
DISPLAY_NAME_MAX = 128
PASSWORD_MIN, PASSWORD_MAX = 8, 256


def user_record(user: User) -> dict[str, Any]:
    """A member of staff as plain values: never the password, only whether a token exists."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": str(user.role),
        "active": bool(user.active),
        "counters": sorted(c.id for c in user.counters),
        "api_token": user.api_token_hash is not None,
    }


def password_problem(password: object) -> str | None:
    """Why a new password is refused, or None."""
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return f"{PASSWORD_MIN}-{PASSWORD_MAX} characters. · 密码应为 {PASSWORD_MIN}-{PASSWORD_MAX} 个字符。"
    return None


def user_by_id(session: Session, user_id: int) -> User:
    """The user with an id, or UnknownUser."""
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser(f"No user has the id {user_id}.")
    return user


def _clean(raw: Mapping[str, Any], session: Session) -> tuple[dict[str, Any], dict[str, str], list[Counter]]:
    errors: dict[str, str] = {}
    display_name = raw.get("display_name")
    display_name = display_name.strip() if isinstance(display_name, str) else ""
    if len(display_name) > DISPLAY_NAME_MAX:
        errors["display_name"] = f"At most {DISPLAY_NAME_MAX} characters. · 最多 {DISPLAY_NAME_MAX} 个字符。"
    role = raw.get("role")
    if role not in set(Role):
        errors["role"] = "Choose a role. · 请选择角色。"
    active = raw.get("active")
    if not isinstance(active, bool):
        errors["active"] = "Active or not. · 请选择是否启用。"
    ids = raw.get("counters", [])
    counters: list[Counter] = []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        errors["counters"] = "A list of counter ids. · 应为窗口编号列表。"
    elif ids:
        counters = list(session.scalars(select(Counter).where(Counter.id.in_(ids)).order_by(Counter.id)))
        if len(counters) != len(set(ids)):
            errors["counters"] = "Unknown counters. · 有未知的窗口。"
    values = {"display_name": display_name, "role": str(role), "active": bool(active)}
    return values, errors, counters


def _other_active_admins(session: Session, user_id: int) -> int:
    query = (
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user_id)
    )
    return int(session.scalar(query) or 0)


def create_user(
    session: Session, clock: Clock, actor_id: int | None, raw: Mapping[str, Any], password_hash: str
) -> User:
    """Create a member of staff: username, display name, role, active, counters they may use."""
    values, errors, counters = _clean(raw, session)
    username = raw.get("username")
    username = username.strip().lower() if isinstance(username, str) else ""
    if not USERNAME_RE.match(username):
        errors["username"] = "2-64 of a-z, 0-9, . _ -. · 用户名为 2-64 位小写字母、数字或 . _ -。"
    elif session.scalars(select(User).where(User.username == username)).first() is not None:
        errors["username"] = f"{username} exists already. · 用户名 {username} 已存在。"
    if errors:
        raise SettingsInvalid(errors)
    user = User(username=username, password_hash=password_hash, **values)
    user.display_name = user.display_name or username
    user.counters = counters
    session.add(user)
    session.flush()
    audit(session, clock, actor_id, "create_user", f"user:{username}", after=user_record(user))
    return user


def update_user(
    session: Session, clock: Clock, actor_id: int | None, user_id: int, raw: Mapping[str, Any]
) -> User:
    """Change a member of staff's name, role, active flag and counters."""
    user = user_by_id(session, user_id)
    values, errors, counters = _clean(raw, session)
    demoted = values["role"] != Role.ADMIN or not values["active"]
    if not errors and user.role == Role.ADMIN and user.active and demoted:
        if user.id == actor_id:
            errors["role" if values["active"] else "active"] = (
                "You cannot take away your own admin access. · 不能取消自己的管理员权限。"
            )
        elif _other_active_admins(session, user.id) == 0:
            errors["role"] = "The hall keeps at least one active admin. · 至少保留一名启用的管理员。"
    if errors:
        raise SettingsInvalid(errors)
    before = user_record(user)
    user.display_name = values["display_name"] or user.username
    user.role = values["role"]
    user.active = values["active"]
    user.counters = counters
    session.flush()
    after = user_record(user)
    if before != after:
        audit(session, clock, actor_id, "update_user", f"user:{user.username}", before=before, after=after)
    return user


def set_password(
    session: Session, clock: Clock, actor_id: int | None, user_id: int, password_hash: str
) -> User:
    """Give a member of staff a new password (hashed by the caller)."""
    user = user_by_id(session, user_id)
    user.password_hash = password_hash
    audit(session, clock, actor_id, "reset_password", f"user:{user.username}", after={"password": "reset"})
    return user


def set_api_token(
    session: Session, clock: Clock, actor_id: int | None, user_id: int, token_digest: str | None
) -> User:
    """Issue (a digest) or revoke (None) a member of staff's API token; the old one stops working."""
    user = user_by_id(session, user_id)
    had = user.api_token_hash is not None
    user.api_token_hash = token_digest
    action = "issue_token" if token_digest is not None else "revoke_token"
    after = {"api_token": token_digest is not None}
    audit(session, clock, actor_id, action, f"user:{user.username}", before={"api_token": had}, after=after)
    return user
