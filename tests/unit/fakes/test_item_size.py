"""Item sizes by the rules of the DynamoDB developer guide, "DynamoDB item
sizes and formats": each example below is one rule, worked by hand."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.fakes.item_size import item_size


@pytest.mark.parametrize("item, size", [
    # a string: name bytes + UTF-8 bytes ("é" is two)
    ({"name": "héllo"}, 4 + 6),
    # a number: 1 byte per two significant digits, plus 1
    ({"n": 123456}, 1 + 3 + 1),
    ({"n": 12345}, 1 + 3 + 1),
    ({"n": 7}, 1 + 1 + 1),
    # leading and trailing zeroes are trimmed
    ({"n": 1200}, 1 + 1 + 1),
    ({"n": 0.001}, 1 + 1 + 1),
    ({"n": Decimal("12.50")}, 1 + 2 + 1),
    ({"n": -98.76}, 1 + 2 + 1),
    # binary: its raw bytes
    ({"b": b"\x00\x01\x02"}, 1 + 3),
    # null or Boolean: 1 byte
    ({"t": True, "z": None}, (1 + 1) + (1 + 1)),
    # a list or map: 3 bytes, plus each element and 1 byte per element
    ({"l": ["ab", 1]}, 1 + 3 + (2 + 1) + (2 + 1)),
    ({"m": {"k": "v"}}, 1 + 3 + (1 + 1 + 1)),
    ({"e": [], "f": {}}, (1 + 3) + (1 + 3)),
    ({"deep": {"l": [{"x": True}]}}, 4 + 3 + (1 + (3 + ((3 + (1 + 1 + 1)) + 1)) + 1)),
])
def test_each_rule(item, size):
    assert item_size(item) == size


def test_a_whole_item():
    """An item with every common kind: 8 strings and a 4-digit number."""
    item = {"itemType": "SLOT", "id": "abc1231", "hostName": "Harry Mason", "timeSlot": "February 23, 1999",
            "slotStatus": "OPEN", "createdAt": "February 1, 1999", "updatedAt": "February 1, 1999",
            "expiresAt": 2099}
    assert item_size(item) == 12 + 9 + 19 + 25 + 14 + 25 + 25 + 12  # 141


def test_no_item_has_no_size():
    assert item_size(None) == 0 and item_size({}) == 0
