"""The demo hall of DESIGN §8: services A-D, counters 1-4, admin, supervisor, clerk1-clerk4."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.auth import hash_password
from queue_engine.booking.models import BookingSettings
from queue_engine.core.kinds import Category, Role
from queue_engine.core.models import Counter, Service, User
from queue_engine.hall.calendar import hall_settings

DEMO_SERVICES = [
    # code, names, category, target wait (min)
    ("A", {"zh": "咨询", "en": "Inquiry"}, Category.INQUIRY, 10),
    ("B", {"zh": "办理", "en": "Transactions"}, Category.TRANSACTION, 20),
    ("C", {"zh": "投诉", "en": "Complaints"}, Category.COMPLAINT, 15),
    ("D", {"zh": "证照领取", "en": "Document collection"}, Category.OTHER, 10),
]
# Counters 1 and 2 serve every service; 3 and 4 a subset each.
DEMO_COUNTERS = {1: "ABCD", 2: "ABCD", 3: "AB", 4: "CD"}
DEMO_USERS = [
    ("admin", "管理员 Admin", Role.ADMIN),
    ("supervisor", "值班长 Supervisor", Role.SUPERVISOR),
    *[(f"clerk{n}", f"{n}号窗口 Clerk {n}", Role.CLERK) for n in range(1, 5)],
]


def hall_contents(session: Session) -> dict[str, int]:
    """How many services, counters and users the database holds: a hall, once any is there.

    The hall settings row is not counted: the app writes it on its own (its defaults).
    """
    return {
        "services": session.scalar(select(func.count(Service.id))) or 0,
        "counters": session.scalar(select(func.count(Counter.id))) or 0,
        "users": session.scalar(select(func.count(User.id))) or 0,
    }


def demo_password(username: str) -> str:
    shared = os.environ.get("QMS_DEMO_PASSWORD")
    return shared or f"{username}-{secrets.token_hex(3)}"


def seed_demo(session: Session, logins_file: Path | None, password: str | None = None) -> dict[str, str]:
    """Create whatever of the demo hall is missing; return the logins created now."""
    created = seed_hall(
        session,
        logins_file,
        password,
        name={"zh": "政务服务大厅", "en": "Service Hall"},
        services=DEMO_SERVICES,
        counters=DEMO_COUNTERS,
        users=DEMO_USERS,
    )
    inquiry = session.scalars(select(Service).where(Service.code == "A")).one()
    if session.get(BookingSettings, inquiry.id) is None:
        session.add(demo_booking_settings(inquiry.id))
    return created


def demo_booking_settings(service_id: int) -> BookingSettings:
    """DESIGN §8: the demo's bookable service takes 15-minute slots of 4, up to the slot's start,
    check-in from 30 minutes before to 15 after."""
    return BookingSettings(
        service_id=service_id,
        bookable=True,
        slot_minutes=15,
        capacity=4,
        cutoff_minutes=0,
        checkin_before_min=30,
        checkin_after_min=15,
    )


def seed_hall(
    session: Session,
    logins_file: Path | None,
    password: str | None,
    *,
    name: dict[str, str],
    services: list[tuple[str, dict[str, str], Category, int]],
    counters: dict[int, str],
    users: list[tuple[str, str, Role]],
) -> dict[str, str]:
    """Create whatever of a hall is missing: its services (code, names, category, target wait),
    counters (id: the codes served) and users, who may open every counter; return the logins."""
    hall = hall_settings(session)
    hall.name = hall.name or name
    made: dict[str, Service] = {}
    for order, (code, names, category, target) in enumerate(services):
        service = session.scalars(select(Service).where(Service.code == code)).first()
        if service is None:
            service = Service(
                code=code,
                prefix=code,
                names=names,
                category=category,
                target_wait_min=target,
                sort_order=order,
                active=True,
                start_number=1,
            )
            session.add(service)
        made[code] = service
    session.flush()
    desks = []
    for counter_id, codes in counters.items():
        counter = session.get(Counter, counter_id)
        if counter is None:
            counter = Counter(id=counter_id, name=str(counter_id), state="closed", active=True)
            counter.services = [made[c] for c in codes]
            session.add(counter)
        desks.append(counter)
    session.flush()
    created: dict[str, str] = {}
    for username, display, role in users:
        if session.scalars(select(User).where(User.username == username)).first() is not None:
            continue
        secret = password or demo_password(username)
        user = User(
            username=username,
            display_name=display,
            role=role,
            password_hash=hash_password(secret),
            active=True,
            # A random demo password, printed and kept in demo-logins.txt for the demo: its
            # user picks their own at the first log-in.  One given on purpose (--password,
            # QMS_DEMO_PASSWORD, as the tests and bench do) is kept as it is.
            must_change_password=not (password or os.environ.get("QMS_DEMO_PASSWORD")),
        )
        user.counters = list(desks)  # clerkN opens counter N by default and may open any
        session.add(user)
        created[username] = secret
    if created and logins_file is not None:
        write_logins(logins_file, created)
    return created


def write_logins(logins_file: Path, created: dict[str, str]) -> None:
    # A user created again (the database was reset) replaces its old line: a stale password
    # listed first would be the one people try.
    old = logins_file.read_text().splitlines() if logins_file.exists() else []
    kept = [line for line in old if line.strip() and line.split()[0] not in created]
    lines = kept + [f"{username:<12} {secret}" for username, secret in created.items()]
    logins_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(logins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write("\n".join(lines) + "\n")
    logins_file.chmod(0o600)
