"""Python values as `layers_shared.store.codec` gives them back from DynamoDB,
and DynamoDB's rules of type, equality, order and arithmetic on them.

The in-memory table (tests/fakes/memory_table.py) stores exactly what a round
trip through DynamoDB and the codec would return: whole numbers as int, other
numbers as float (a float 3.0 or Decimal("3") comes back as 3), tuples as
lists, map keys as str. Stored values are never changed in place (a write
builds new containers), so versions of an item may share them; callers only
ever get copies.
"""
from __future__ import annotations

import math
from decimal import Context, Decimal, Inexact, Rounded
from typing import Any


class ValidationError(Exception):
    """What DynamoDB answers with a ValidationException."""


class InvalidExpression(ValidationError):
    """The request is wrong whatever the table holds (syntax, placeholders,
    reserved words, key attributes): a whole transaction is refused."""


class InvalidData(ValidationError):
    """The request is wrong for the item it met (arithmetic on a missing
    attribute, a wrong type): in a transaction, that item's reason is
    "ValidationError"."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # an attribute the item does not have

# DynamoDB numbers: 38 significant digits; arithmetic beyond that is refused.
_NUMBERS = Context(prec=38, traps=[Inexact, Rounded])


def normalize(v: Any) -> Any:
    """`v` as it would come back from the table. Raises TypeError for what the
    codec cannot send (as the real Table does before any call)."""
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return v
    if t is float:
        return _from_float(v)
    if t is dict:
        return {str(k): normalize(x) for k, x in v.items()}
    if t is list or t is tuple:
        return [normalize(x) for x in v]
    # Subclasses (str or int enums) and the rarer types, in the codec's order.
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, Decimal):
        return _from_decimal(v)
    if isinstance(v, float):
        return _from_float(float(v))
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if isinstance(v, dict):
        return {str(k): normalize(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [normalize(x) for x in v]
    raise TypeError(f"cannot store {type(v).__name__} in DynamoDB")


def _from_float(v: float) -> int | float:
    if not math.isfinite(v):
        raise InvalidData(f"The parameter cannot be converted to a numeric value: {v!r}")
    return int(v) if v.is_integer() else v


def _from_decimal(v: Decimal) -> int | float:
    if not v.is_finite():
        raise InvalidData(f"The parameter cannot be converted to a numeric value: {v}")
    return int(v) if v == v.to_integral_value() else float(v)


def copy_value(v: Any) -> Any:
    t = type(v)
    if t is dict:
        return {k: copy_value(x) for k, x in v.items()}
    if t is list:
        return [copy_value(x) for x in v]
    return v


def copy_item(item: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in item.items():
        t = type(v)
        out[k] = copy_value(v) if t is dict or t is list else v
    return out


def kind(v: Any) -> str:
    """The DynamoDB type of a stored or caller's value: S N B BOOL NULL L M (SS/NS for sets)."""
    t = type(v)
    if t is str:
        return "S"
    if t is bool:
        return "BOOL"
    if t is int or t is float or t is Decimal:
        return "N"
    if v is None:
        return "NULL"
    if t is dict:
        return "M"
    if t is list or t is tuple:
        return "L"
    if t is bytes or t is bytearray:
        return "B"
    if isinstance(v, bool):
        return "BOOL"
    if isinstance(v, str):
        return "S"
    if isinstance(v, (int, float, Decimal)):
        return "N"
    if isinstance(v, (set, frozenset)):
        return "NS" if all(kind(x) == "N" for x in v) else "SS"
    if isinstance(v, dict):
        return "M"
    if isinstance(v, (list, tuple)):
        return "L"
    return type(v).__name__


def equal(a: Any, b: Any) -> bool:
    """DynamoDB's `=`: same type and same value (True is not 1, 1 is 1.0)."""
    if a is MISSING or b is MISSING:
        return False
    ta = type(a)
    if ta is type(b) and (ta is str or ta is int):
        return a == b
    ka = kind(a)
    if ka != kind(b):
        return False
    if ka == "L":
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if ka == "M":
        return a.keys() == b.keys() and all(equal(x, b[k]) for k, x in a.items())
    return a == b


_ORDERED = {"S", "N", "B"}


def ordered(a: Any, b: Any) -> bool:
    """Whether `<`, `<=`, `>`, `>=` can hold between a and b: both strings, both
    numbers or both binary (anything else compares false, as in DynamoDB)."""
    if a is MISSING or b is MISSING:
        return False
    ta = type(a)
    if ta is type(b) and (ta is str or ta is int):
        return True
    k = kind(a)
    return k in _ORDERED and k == kind(b)


def number(v: Any) -> bool:
    return v is not MISSING and kind(v) == "N"


def arithmetic(a: Any, b: Any, sign: int) -> int | float:
    """a + b (sign 1) or a - b (sign -1), both numbers, with DynamoDB's 38 digits."""
    if type(a) is int and type(b) is int:
        return a + b if sign > 0 else a - b
    if not (number(a) and number(b)):
        raise InvalidData("An operand in the update expression has an incorrect data type")
    try:
        x, y = _decimal(a), _decimal(b)
        result = _NUMBERS.add(x, y) if sign > 0 else _NUMBERS.subtract(x, y)
    except (Inexact, Rounded):
        raise InvalidData("Number overflow. Attempting to store a number with magnitude larger than supported "
                          "range") from None
    return _from_decimal(result)


def _decimal(v: Any) -> Decimal:
    if isinstance(v, Decimal):
        return v
    if isinstance(v, float):
        return Decimal(repr(v))
    return Decimal(int(v))
