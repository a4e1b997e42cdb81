"""Item sizes by DynamoDB's rules ("DynamoDB item sizes and formats",
developerguide/CapacityUnitCalculations.html), on the Python values the
codec gives back:

- a string: its UTF-8 bytes; binary: its raw bytes;
- a number: 1 byte per two significant digits (leading and trailing zeroes
  trimmed), plus 1;
- null or Boolean: 1 byte;
- a list or map: 3 bytes, plus each element's size plus 1 byte per element
  (a map element's size includes its name's UTF-8 bytes);
- an attribute: its name's UTF-8 bytes plus its value's size.

The 100 bytes per item "for indexing" are storage overhead only: capacity is
computed on the item's own size, as here.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any


_NAMES: dict[str, int] = {}  # attribute names recur: their byte lengths, cached


def _text(value: str) -> int:
    return len(value) if value.isascii() else len(value.encode("utf-8"))


def _name(name: str) -> int:
    size = _NAMES.get(name)
    if size is None:
        size = _text(name)
        if len(_NAMES) < 100_000:
            _NAMES[name] = size
    return size


def number_size(value: int | float | Decimal) -> int:
    if type(value) is int:
        digits = str(abs(value)).rstrip("0") or "0"
        significant = len(digits)
    else:
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        significant = len(exact.normalize().as_tuple().digits)
    return (significant + 1) // 2 + 1


def value_size(value: Any) -> int:
    t = type(value)
    if t is str:
        return _text(value)
    if t is bool or value is None:
        return 1
    if t is int or t is float or t is Decimal:
        return number_size(value)
    if t is dict:
        return 3 + sum(_name(k) + value_size(v) + 1 for k, v in value.items())
    if t is list or t is tuple:
        return 3 + sum(value_size(v) + 1 for v in value)
    if t is bytes or t is bytearray:
        return len(value)
    if isinstance(value, (set, frozenset)):
        return sum(value_size(v) for v in value)
    raise TypeError(f"no DynamoDB size for {t.__name__}")


def attribute_size(name: str, value: Any) -> int:
    """Bytes of one attribute: its name and its value."""
    size = _NAMES.get(name)
    if size is None:
        size = _name(name)
    if type(value) is str:
        return size + (len(value) if value.isascii() else len(value.encode("utf-8")))
    return size + value_size(value)


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of an item (0 for none)."""
    if not item:
        return 0
    total = 0
    names = _NAMES
    for name, value in item.items():
        size = names.get(name)
        if size is None:
            size = _name(name)
        if type(value) is str:
            total += size + (len(value) if value.isascii() else len(value.encode("utf-8")))
        else:
            total += size + value_size(value)
    return total
