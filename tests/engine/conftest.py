"""Engine fixtures: a plain SQLAlchemy session on each database, factories (the clock: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from queue_engine.core.db import make_engine
from queue_engine.core.kinds import Category
from queue_engine.core.models import Base, Counter, Hall, Service, User
from queue_engine.hall.calendar import hall_settings
from queue_engine.notify.visitors import forget_channel_state
from tests.services import fresh_schema


@pytest.fixture(scope="session")
def postgres_schema_engine(postgres_base_url: str) -> Iterator[Engine]:
    """One PostgreSQL schema holding the queue's tables, and one engine on it, for the whole run.

    Creating the tables and connecting cost about 0.3 s a test on PostgreSQL, emptying them
    about 0.02 s; every engine test still starts from empty tables (see ``engine``).
    """
    with fresh_schema(postgres_base_url) as url:
        eng = make_engine(url, pool_size=20, max_overflow=10)
        Base.metadata.create_all(eng)
        yield eng
        eng.dispose()


@pytest.fixture
def postgres_database_url(postgres_schema_engine: Engine) -> str:
    """``database_url`` on PostgreSQL: the run's one schema (``engine`` empties its tables)."""
    return postgres_schema_engine.url.render_as_string(hide_password=False)


@pytest.fixture
def engine(request: pytest.FixtureRequest, database_url: str) -> Iterator[Engine]:
    """A configured engine on an empty database with the queue's tables."""
    if "postgresql" not in database_url:
        eng = make_engine(database_url)
        Base.metadata.create_all(eng)
        yield eng
        eng.dispose()
        return
    shared: Engine = request.getfixturevalue("postgres_schema_engine")
    with shared.begin() as conn:
        # A test that left a lock behind fails the next one loudly instead of hanging it.
        conn.execute(text("SET LOCAL lock_timeout = '10s'"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    # The process's read of the visitor channels' settings is of the rows just deleted.
    forget_channel_state()
    yield shared
    # Every connection a test took must be back in the pool, or the next test inherits its locks.
    assert shared.pool.checkedout() == 0, "a test left a database connection checked out"


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
def make_service(session: Session) -> Callable[..., Service]:
    """Factory: a service with a code (prefix = code unless given).

    A service no counter serves takes no tickets (``service_not_served``), so unless
    ``served=False`` the service is also put on a closed counter "any" that serves every
    service made here (a test that makes its own counters still decides who calls whom).
    """

    def make(code: str, served: bool = True, **fields: object) -> Service:
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
        if served:
            anyone = session.scalars(select(Counter).where(Counter.name == "any")).first()
            if anyone is None:
                anyone = Counter(name="any", state="closed", active=True)
                session.add(anyone)
            anyone.services.append(service)
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


@pytest.fixture
def configure_hall(session: Session) -> Callable[..., Hall]:
    """Factory: set fields of the hall's settings row (created with defaults if missing)."""

    def configure(**fields: object) -> Hall:
        hall = hall_settings(session)
        for name, value in fields.items():
            setattr(hall, name, value)
        session.commit()
        return hall

    return configure
