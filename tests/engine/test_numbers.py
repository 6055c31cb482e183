"""Whole numbers typed as text: ASCII digits within the id columns' range, or nothing."""

from __future__ import annotations

import pytest

from queue_engine.core.numbers import whole_number


@pytest.mark.parametrize(
    ("text", "limit", "number"),
    [
        ("7", None, 7),
        (" 12 ", None, 12),
        ("007", None, 7),
        ("2147483647", None, 2**31 - 1),
        ("2147483648", None, None),  # beyond PostgreSQL's INTEGER: names nothing
        ("9" * 5000, None, None),  # longer than int() reads
        ("³", None, None),  # str.isdigit() says yes, int() says no
        ("٣", None, None),  # int() would read 3
        ("", None, None),
        ("-1", None, None),
        ("1.0", None, None),
        ("6", 6, 6),
        ("7", 6, None),
    ],
)
def test_a_whole_number_is_ascii_digits_within_the_limit(text, limit, number):
    assert (whole_number(text) if limit is None else whole_number(text, limit=limit)) == number
