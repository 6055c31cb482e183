"""A slot is never booked past its capacity across server processes (issue 14, item 2).

200 visitors ask at once for the same 4-place slot of the demo hall's service A, their requests
spread over two gunicorn processes on one database: exactly 4 get a booking (201) and the 196
others a clear 409 ``slot_full``, on PostgreSQL and on SQLite; the slot's row and the bookings
table agree.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.live import free_port, prepare_database, server_env, start_server, stop_server
from tests.services import fresh_schema

pytestmark = [pytest.mark.slow]

VISITORS = 200
PLACES = 4  # the demo seed: A takes bookings, 15-minute slots of 4 (DESIGN §8)
TIMEOUT_S = 60


def _tomorrow_at_ten() -> str:
    """A slot of service A open for booking whenever the test runs: tomorrow 10:00, hall time."""
    hall = ZoneInfo("Asia/Shanghai")
    day = datetime.now(hall).date() + timedelta(days=1)
    return datetime.combine(day, time(10, 0), hall).isoformat()


@pytest.fixture(scope="module", params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def two_servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[str], str]]:
    """Two gunicorn processes on one database (the demo hall), and that database's URL."""
    folder = tmp_path_factory.mktemp(f"booking-rush-{request.param}")
    if request.param == "postgresql":
        database: AbstractContextManager[str] = fresh_schema(request.getfixturevalue("postgres_base_url"))
    else:
        database = nullcontext(f"sqlite:///{folder / 'rush.sqlite3'}")
    with database as database_url:
        env = server_env(database_url, QMS_TIMEZONE="Asia/Shanghai")
        prepare_database(env)
        processes = []
        try:
            with ThreadPoolExecutor(2) as pool:
                ports = [free_port(), free_port()]
                starting = [pool.submit(start_server, env, port, folder / f"{port}.log") for port in ports]
                for future in starting:
                    if future.exception() is None:
                        processes.append(future.result())
                for future in starting:
                    future.result()
            yield [f"http://127.0.0.1:{port}" for port in ports], database_url
        finally:
            for process in processes:
                stop_server(process)


def test_200_concurrent_bookers_of_a_4_place_slot_get_4_bookings_and_196_slot_full(two_servers):
    urls, database_url = two_servers
    start = _tomorrow_at_ten()
    ready = threading.Barrier(VISITORS, timeout=TIMEOUT_S)
    local = threading.local()

    def book(n: int) -> tuple[int, str]:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        body = {"service": "A", "start": start, "name": f"访客{n}", "phone": f"139{n:08d}"}
        ready.wait()  # every request leaves at once
        answer = local.http.post(f"{urls[n % 2]}/api/v1/appointments", json=body, timeout=TIMEOUT_S)
        code = answer.json().get("error", {}).get("code", "") if answer.status_code != 201 else ""
        return answer.status_code, code

    with ThreadPoolExecutor(VISITORS) as pool:
        answers = Counter(pool.map(book, range(VISITORS)))

    assert answers == {(201, ""): PLACES, (409, "slot_full"): VISITORS - PLACES}
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            slot = connection.execute(text("SELECT capacity, booked FROM booking_slots")).all()
            bookings = connection.execute(
                text("SELECT count(*) FROM bookings WHERE state = 'booked'")
            ).scalar()
    finally:
        engine.dispose()
    assert slot == [(PLACES, PLACES)] and bookings == PLACES
    free = requests.get(f"{urls[0]}/api/v1/services/A/slots?date={start[:10]}", timeout=TIMEOUT_S).json()
    assert next(s for s in free if s["start"].startswith(start[:10]) and s["booked"] == PLACES)["free"] == 0
