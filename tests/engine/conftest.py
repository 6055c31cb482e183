"""Engine fixtures: a plain SQLAlchemy session on each database, a movable clock, factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from queue_engine import FakeClock
from queue_engine.db import make_engine
from queue_engine.models import Base, Category, Counter, Service, User

# Monday 5 January 2026, 09:00 in Shanghai.
MONDAY_9AM = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A configured engine with the queue's tables created."""
    eng = (
        make_engine(database_url, pool_size=20, max_overflow=10)
        if "postgresql" in database_url
        else make_engine(database_url)
    )
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Makes sessions on the test database (one per thread in concurrency tests)."""
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session on the test database."""
    with session_factory() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    """The hall clock standing at Monday 09:00 in Asia/Shanghai."""
    return FakeClock(tz=ZoneInfo("Asia/Shanghai"), current=MONDAY_9AM)


@pytest.fixture
def make_service(session: Session) -> Callable[..., Service]:
    """Factory: a service with a code (prefix = code unless given)."""

    def make(code: str, **fields: object) -> Service:
        values: dict[str, object] = {
            "prefix": code,
            "names": {"zh": f"业务{code}", "en": f"Service {code}"},
            "category": Category.OTHER,
            "active": True,
            "sort_order": 0,
            "target_wait_min": 15,
            "start_number": 1,
        }
        values.update(fields)
        service = Service(code=code, **values)
        session.add(service)
        session.commit()
        return service

    return make


@pytest.fixture
def make_counter(session: Session) -> Callable[..., Counter]:
    """Factory: a counter serving some services."""

    def make(name: str, services: list[Service], **fields: object) -> Counter:
        counter = Counter(name=name, state="closed", active=True, **fields)
        counter.services = list(services)
        session.add(counter)
        session.commit()
        return counter

    return make


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    """Factory: a member of staff."""

    def make(username: str, role: str = "clerk") -> User:
        user = User(username=username, display_name=username, role=role, password_hash="x", active=True)
        session.add(user)
        session.commit()
        return user

    return make
