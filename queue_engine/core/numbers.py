"""Whole numbers typed as text (ids in filters and forms, weekdays, hours, counts).

``str.isdigit`` is true for ``³`` and other digits ``int()`` refuses, and an id beyond the
column's range makes PostgreSQL fail the query: one reading here refuses both.
"""

from __future__ import annotations

# The largest id any table holds (a 32-bit INTEGER on PostgreSQL): a larger one names nothing.
MAX_ID = 2**31 - 1


def whole_number(text: str, limit: int = MAX_ID) -> int | None:
    """The number ``text`` spells in ASCII digits (spaces around allowed), if at most ``limit``."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(limit)):
        return None
    number = int(text)
    return number if number <= limit else None
