"""Python values <-> DynamoDB attribute values.

Hand-written instead of boto3's TypeSerializer so that importing a function
does not import boto3 (cold start: see docs/benchmarks.md). Numbers travel as
strings, as the wire format wants; whole numbers come back as int.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any


def value(v: Any) -> dict[str, Any]:
    if v is None:
        return {"NULL": True}
    if isinstance(v, bool):
        return {"BOOL": v}
    if isinstance(v, str):
        return {"S": v}
    if isinstance(v, (int, Decimal)):
        return {"N": str(v)}
    if isinstance(v, float):
        return {"N": repr(v)}
    if isinstance(v, (bytes, bytearray)):
        return {"B": bytes(v)}
    if isinstance(v, dict):
        return {"M": {str(k): value(x) for k, x in v.items()}}
    if isinstance(v, (list, tuple)):
        return {"L": [value(x) for x in v]}
    raise TypeError(f"cannot store {type(v).__name__} in DynamoDB")


def plain(attr: dict[str, Any]) -> Any:
    (kind, v), = attr.items()
    if kind == "S":
        return v
    if kind == "N":
        number = Decimal(v)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "BOOL":
        return bool(v)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: plain(x) for k, x in v.items()}
    if kind == "L":
        return [plain(x) for x in v]
    if kind == "B":
        return v
    if kind == "SS":
        return sorted(v)
    if kind == "NS":
        return sorted(plain({"N": x}) for x in v)
    raise TypeError(f"unknown DynamoDB type {kind}")


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: value(v) for k, v in item.items()}


def deserialize(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: plain(v) for k, v in item.items()}
