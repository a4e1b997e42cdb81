"""Opaque list cursors: round trips, tamper detection, limits."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers_shared.domain.errors import ValidationFailed
from layers_shared.domain import pagination

positions = st.dictionaries(st.text(max_size=40), st.text(max_size=80), max_size=4)
digests = st.text(min_size=1, max_size=30)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _rejected(cursor: str, digest: str) -> dict:
    with pytest.raises(ValidationFailed) as err:
        pagination.decode(cursor, digest)
    [issue] = err.value.details["issues"]
    assert issue["path"] == "cursor" and issue["code"] == "invalid_cursor"
    return issue


@given(positions, digests)
def test_round_trip(position, digest):
    cursor = pagination.encode(position, digest)
    assert set(cursor) <= set(ALPHABET)  # URL-safe, no padding
    assert pagination.decode(cursor, digest) == position


@given(positions, digests, st.data())
def test_any_single_character_change_is_refused(position, digest, data):
    cursor = pagination.encode(position, digest)
    at = data.draw(st.integers(min_value=0, max_value=len(cursor) - 1))
    other = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != cursor[at]))
    _rejected(cursor[:at] + other + cursor[at + 1:], digest)


@given(positions, digests, st.data())
def test_truncated_or_extended_cursors_are_refused(position, digest, data):
    cursor = pagination.encode(position, digest)
    cut = data.draw(st.integers(min_value=0, max_value=len(cursor) - 1))
    _rejected(cursor[:cut] or "x", digest)
    _rejected(cursor + data.draw(st.text(alphabet=ALPHABET + "=", min_size=1, max_size=4)), digest)


@given(positions, digests, digests)
def test_a_cursor_of_another_query_is_refused(position, digest, other):
    cursor = pagination.encode(position, digest)
    if other != digest:
        assert "another query" in _rejected(cursor, other)["message"]


@given(st.text(max_size=300))
def test_arbitrary_text_is_a_422_never_a_crash(text):
    try:
        pagination.decode(text, "d")
    except ValidationFailed:
        pass


def test_a_too_long_cursor_is_refused():
    _rejected("A" * (pagination.MAX_LENGTH + 1), "d")


def test_the_mac_depends_on_the_secret(monkeypatch):
    cursor = pagination.encode({"sk": "x"}, "d")
    monkeypatch.setenv("CURSOR_SECRET", "rotated")
    _rejected(cursor, "d")


def test_query_digest_ignores_key_order_but_not_values():
    a = pagination.query_digest({"project": "p", "status": ["queued"], "from": None})
    b = pagination.query_digest({"from": None, "status": ["queued"], "project": "p"})
    assert a == b != pagination.query_digest({"project": "p", "status": ["failed"], "from": None})


@given(st.integers(min_value=1, max_value=100))
def test_limits_in_range(n):
    assert pagination.parse_limit(str(n), default=50, maximum=100) == n


def test_limit_default():
    assert pagination.parse_limit(None, default=50, maximum=100) == 50


@given(st.text(max_size=20))
def test_any_other_limit_is_422(text):
    stripped = text.strip()
    valid = stripped.isascii() and stripped.isdigit() and 1 <= int(stripped) <= 100
    if valid:
        assert pagination.parse_limit(text, default=50, maximum=100) == int(stripped)
        return
    with pytest.raises(ValidationFailed) as err:
        pagination.parse_limit(text, default=50, maximum=100)
    assert err.value.details["issues"][0]["path"] == "limit"


@pytest.mark.parametrize("raw", ["0", "101", "-1", "1.5", "1e2", "", " ", "٣", "9" * 5000])
def test_examples_of_bad_limits(raw):
    with pytest.raises(ValidationFailed):
        pagination.parse_limit(raw, default=50, maximum=100)


def test_leading_zeros_are_fine_however_many():
    assert pagination.parse_limit("0" * 5000 + "7", default=50, maximum=100) == 7
