"""Opaque list cursors, pure (platform.md §5.1; docs/adr/0041-list-cursor.md).

A cursor carries the position after which the next page starts and a digest
of the query it belongs to (project and filters), protected by a MAC. It
grants nothing: the partition always comes from the path and tenancy is
checked first, so the MAC is about integrity (an edited or forged cursor is a
clean 422, never a DynamoDB error or a page of another query), not secrecy.

Encoding: base64url without padding of `mac(16 bytes) + canonical JSON`.
Decoding re-encodes and compares, so no two strings decode to one cursor.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from layers_shared import settings
from layers_shared.domain.errors import ValidationFailed, issue

VERSION = 1
MAC_BYTES = 16
MAX_LENGTH = 2048


def _secret() -> bytes:
    """The key from Secrets Manager (read once per container), or the local
    stack's and tests' explicit CURSOR_SECRET; no built-in key."""
    return settings.current().cursor_key()


def query_digest(parts: dict[str, Any]) -> str:
    """A short, stable digest of what a query asks for (order-insensitive keys)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _mac(data: bytes) -> bytes:
    return hmac.new(_secret(), data, hashlib.sha256).digest()[:MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode(position: dict[str, str], digest: str) -> str:
    data = json.dumps({"v": VERSION, "q": digest, "p": position}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()
    return _b64(_mac(data) + data)


def decode(cursor: str, digest: str, path: str = "cursor") -> dict[str, str]:
    """The position inside `cursor`, or 422 VALIDATION at `path`."""
    def invalid(message: str) -> ValidationFailed:
        return ValidationFailed([issue(path, "invalid_cursor", message)])

    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_LENGTH:
        raise invalid("not a cursor returned by this endpoint")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise invalid("not a cursor returned by this endpoint") from None
    if _b64(raw) != cursor or len(raw) <= MAC_BYTES:
        raise invalid("not a cursor returned by this endpoint")
    mac, data = raw[:MAC_BYTES], raw[MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(data)):
        raise invalid("the cursor was altered")
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise invalid("not a cursor returned by this endpoint") from None
    if not isinstance(value, dict) or value.get("v") != VERSION:
        raise invalid("not a cursor returned by this endpoint")
    if value.get("q") != digest:
        raise invalid("the cursor belongs to another query; keep the same filters while paging")
    position = value.get("p")
    if not isinstance(position, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in position.items()):
        raise invalid("not a cursor returned by this endpoint")
    return position


def parse_limit(raw: str | None, *, default: int, maximum: int, path: str = "limit") -> int:
    """`limit` as an integer in 1..maximum; absent -> default; anything else -> 422."""
    if raw is None:
        return default
    text = raw.strip()
    significant = text.lstrip("0")  # int() of thousands of digits raises; leading zeros are harmless
    if not (text.isascii() and text.isdigit() and len(significant) <= 6) \
            or not 1 <= int(significant or "0") <= maximum:
        raise ValidationFailed([issue(path, "out_of_range", f"must be an integer from 1 to {maximum}")])
    return int(significant)
