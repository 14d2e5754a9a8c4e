"""Small pieces on their own: id encoding, the rate limiter, filter parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncord.sandbox.ids import PATIENT_BASE, IdCodec, parse_id
from oncord.sandbox.query import QueryError, parse_filters
from oncord.sandbox.ratelimit import RateLimiter
from oncord.sandbox.spec import Q_FILTERS

CODEC = IdCodec(PATIENT_BASE, salt=3)


@given(st.integers(0, 10_000_000))
def test_ids_round_trip_and_grow_with_the_index(index):
    """Every index has a 19-digit id that decodes back; ids keep creation order."""
    encoded = CODEC.encode(index)
    assert len(str(encoded)) == 19
    assert CODEC.decode(encoded) == index
    assert CODEC.encode(index + 1) > encoded
    assert CODEC.decode(encoded + 1) is None
    assert CODEC.count_at_most(encoded) == index + 1
    assert CODEC.count_at_most(encoded - 1) == index


def test_parse_id_accepts_digit_strings_only():
    """Ids are digit strings (or ints); anything else is not an id."""
    assert parse_id("1389004381927544808") == 1389004381927544808
    for bad in ("", "12a", "-5", "1" * 21, "١٢", None, 1.5, True):
        assert parse_id(bad) is None


def test_rate_limiter_windows():
    """N hits per window per key; the reset is the window's end, rounded up to a second."""
    limiter = RateLimiter(limit=2, window_seconds=60)
    assert limiter.hit("k", 100.2) is None and limiter.hit("k", 101) is None
    assert limiter.hit("k", 150) == 161
    assert limiter.hit("other", 150) is None
    assert limiter.hit("k", 160.2) is None
    with pytest.raises(ValueError):
        limiter.configure(0)


def test_filter_parsing():
    """Operators are read longest first and checked against the field's type."""
    (like,) = parse_filters(["last_name:~~ja%on%"], Q_FILTERS["GET /patients"])
    assert like.op == "~~" and like.value.fullmatch("JACKSONS")
    (ids,) = parse_filters(["id:=1,2,3"], Q_FILTERS["GET /patients"])
    assert ids.value == [1, 2, 3]
    with pytest.raises(QueryError, match="not searchable"):
        parse_filters(["postcode:=3000"], Q_FILTERS["GET /patients"])
    with pytest.raises(QueryError, match="operator"):
        parse_filters(["created_at:=2024-01-01T00:00:00Z"], Q_FILTERS["GET /patients"])
