"""Run as a script: the engine's writers and PostgreSQL waits as greenlets, in a patched process.

What gunicorn's gevent worker does first, this does first: ``gevent.monkey.patch_all()``, then
the engine is imported.  It prints one JSON line of what happened (``test_gevent.py`` reads it):

* ``numbers``: the tickets that ``KIOSKS`` greenlets issued at once, each yielding to the others
  in the middle of its write transaction (as a request's Redis or socket call would).  On SQLite
  the others must wait their turn in the writer queue, cooperatively: one that reached SQLite's
  busy handler instead would sleep there in C, blocking the loop, so the holder could never
  commit and the writer would fail with "database is locked" after the busy timeout.
* ``after_another_process`` (SQLite): the number a greenlet issued while another process held
  the write lock (a connection outside the writer queue stands for it), which a second greenlet
  releases meanwhile.  The wait must not sleep in SQLite's busy handler, which would block the
  loop until the busy timeout: the holder never let go and the issue failed.
* ``handed_over`` (PostgreSQL): one greenlet waits in the server for an advisory lock that a
  second greenlet, started after it, releases.  The wait must let the loop run (psycopg picks a
  cooperative wait when it finds ``select`` patched); a wait in C would never see the release.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import gevent  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from queue_engine import FakeClock, issue_ticket  # noqa: E402
from queue_engine.core.db import make_engine  # noqa: E402
from queue_engine.core.models import Base, Counter, Service  # noqa: E402

KIOSKS = 8  # test_gevent.py says the same
LOCK_KEY = 912_012


def issue_at_once(url: str) -> list[str]:
    """``KIOSKS`` greenlets each issue a ticket of service A, yielding inside the transaction."""
    engine = make_engine(url, pool_size=KIOSKS)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Counter(name="1", services=[Service(code="A", prefix="A", names={"zh": "A", "en": "A"})]))
        s.commit()
    clock = FakeClock(tz=ZoneInfo("Asia/Shanghai"), current=datetime(2026, 1, 5, 1, 0, tzinfo=UTC))

    def kiosk() -> str:
        with Session(engine) as s:
            number = issue_ticket(s, clock, "A").number
            gevent.sleep(0.01)  # the others run now, while this one holds the write lock
            s.commit()
            return number

    kiosks = [gevent.spawn(kiosk) for _ in range(KIOSKS)]
    gevent.joinall(kiosks, raise_error=True)
    engine.dispose()
    return sorted(k.value for k in kiosks)


def issued_after_another_process(url: str) -> str:
    """The number issued by a greenlet that met another process's write lock, freed meanwhile."""
    engine = make_engine(url)
    other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the command line, writing
    clock = FakeClock(tz=ZoneInfo("Asia/Shanghai"), current=datetime(2026, 1, 5, 2, 0, tzinfo=UTC))

    def kiosk() -> str:
        with Session(engine) as s:
            number = issue_ticket(s, clock, "A").number
            s.commit()
            return number

    def other_commits() -> None:
        gevent.sleep(0.2)  # the kiosk is waiting for the lock by now
        other.execute("COMMIT")

    waiting = gevent.spawn(kiosk)
    committing = gevent.spawn(other_commits)
    gevent.joinall([waiting, committing], raise_error=True)
    other.close()
    engine.dispose()
    return str(waiting.value)


def advisory_lock_handed_over(url: str) -> bool:
    """Whether a greenlet waiting in PostgreSQL for a lock gets it when another greenlet frees it."""
    engine = make_engine(url)
    holder = engine.connect()
    holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})

    def waiter() -> bool:
        with engine.connect() as connection:
            connection.execute(text("SET statement_timeout = '20s'"))  # a blocked loop fails, not hangs
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            return True

    def releaser() -> None:
        gevent.sleep(0.2)  # the waiter is in the server by now
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})

    waiting = gevent.spawn(waiter)
    releasing = gevent.spawn(releaser)
    gevent.joinall([waiting, releasing], raise_error=True)
    holder.close()
    engine.dispose()
    return bool(waiting.value)


def main(url: str) -> None:
    """Print what happened as one JSON line."""
    found: dict[str, object] = {"numbers": issue_at_once(url)}
    if url.startswith("postgresql"):
        found["handed_over"] = advisory_lock_handed_over(url)
    else:
        found["after_another_process"] = issued_after_another_process(url)
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1])
