"""UTC instants: parsing, formatting and the one place that reads the clock.

Everything in the system is an aware UTC datetime. Input may carry any offset;
naive times are refused. Storage uses a fixed-width form so that string order
is time order (sort keys, condition expressions).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?$"
)

_override: datetime | None = None


def now() -> datetime:
    if _override is not None:
        return _override
    return datetime.now(UTC)


def set_now(value: datetime | None) -> None:
    """Freeze the clock (tests and the local stack's time travel only)."""
    global _override
    _override = value


class InstantError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def parse_instant(value: str) -> datetime:
    """Parse an ISO 8601 instant with an offset; naive times are an error."""
    if not isinstance(value, str) or not _ISO.match(value.strip()):
        raise InstantError("invalid_datetime", "must be an ISO 8601 date-time, e.g. 2026-04-19T14:00:00Z")
    text = value.strip()
    if not re.search(r"(Z|z|[+-]\d{2}:?\d{2})$", text):
        raise InstantError("naive_datetime", "must carry a UTC offset (e.g. 'Z' or '+02:00')")
    text = re.sub(r"[Zz]$", "+00:00", text)
    # Python 3.11 accepts up to 6 fractional digits; trim nanoseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InstantError("invalid_datetime", f"not a valid date-time: {exc}") from None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise InstantError("invalid_datetime", "not a valid date-time: out of range once moved to UTC") from None


def to_storage(value: datetime) -> str:
    """Fixed-width, millisecond precision, sortable: 2026-04-19T14:00:00.000Z."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def from_storage(value: str | None) -> datetime | None:
    if value is None:
        return None
    return parse_instant(value)


def to_wire(value: datetime | str | None) -> str | None:
    """API output: UTC with 'Z'; milliseconds only when they are not zero."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_instant(value)
    value = value.astimezone(UTC)
    millis = value.microsecond // 1000
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def truncate_ms(value: datetime) -> datetime:
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


def epoch_seconds(value: datetime) -> int:
    return int(value.timestamp())


def plus(value: datetime, **kwargs: float) -> datetime:
    return value + timedelta(**kwargs)
