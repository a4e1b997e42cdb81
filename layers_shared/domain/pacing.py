"""Pacing rules: when the next call under a per-token limit may go out, and
how long a retry waits. Pure; the table-backed state is `store/pacing.py`.

TikTok counts its limits in a one-minute *sliding* window per token
(platform-apis.md §1.7). A fixed-window counter admits up to twice the limit
inside one sliding minute (a full window's calls at its end, the next
window's at its start), so the budget keeps the instants of the last `limit`
calls instead: a call may go at `now` unless `limit` calls already sit inside
the minute before it, else at the instant the oldest of them leaves it.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence


def next_slot(reserved: Sequence[int], now: int, limit: int, window: int) -> int:
    """The earliest instant (same unit as `now`, e.g. ms) at or after `now` at
    which one more call keeps every window of length `window` at most `limit`
    calls, given the instants already `reserved` (any order, any length)."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    recent = sorted(reserved)[-limit:]
    # Slots never go backwards (a worker whose clock lags must not slip in
    # before a slot already handed out), so checking only the oldest of the
    # last `limit` is enough to keep every window within the limit.
    latest = recent[-1] if recent else now
    if len(recent) < limit:
        return max(now, latest)
    return max(now, latest, recent[0] + window)


def keep(reserved: Sequence[int], slot: int, limit: int) -> list[int]:
    """What the budget remembers after reserving `slot`: the last `limit` instants."""
    return sorted([*reserved, slot])[-limit:]


def full_jitter(backoff: float, floor: float = 0.0, rand: Callable[[], float] | None = None) -> float:
    """A uniformly random wait in [floor, max(floor, backoff)] ("full jitter"):
    posts that failed together (a platform outage, one rate-limited token) come
    back spread over the backoff instead of together. `floor` is what the
    platform asked for (Retry-After) and is never shortened."""
    import random

    draw = (rand or random.random)()
    top = max(floor, backoff)
    return floor + (top - floor) * min(1.0, max(0.0, draw))


# Meta's usage headers (platform-apis.md §2.7) are percentages of a rolling
# hour. Stop a little before 100 %: past it every call is refused and the
# block lasts longer than the wait we would have paid.
USAGE_THRESHOLD = 90.0
USAGE_WAIT = 300.0
_USAGE_FIELDS = ("call_count", "total_cputime", "total_time")


def meta_usage_waits(headers: Mapping[str, str], threshold: float = USAGE_THRESHOLD) -> tuple[float | None, float | None]:
    """(app, business) seconds to hold Graph calls, from `X-App-Usage` (the
    whole app) and `X-Business-Use-Case-Usage` (this business account); None
    where the usage is below the threshold. Meta's own estimate of when access
    comes back wins when it gives one."""
    app = _json_object(headers.get("x-app-usage"))
    app_wait = USAGE_WAIT if isinstance(app, dict) and _over(app, threshold) else None
    business_wait: float | None = None
    usage = _json_object(headers.get("x-business-use-case-usage"))
    for entries in (usage.values() if isinstance(usage, dict) else []):
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            regain = _number(entry.get("estimated_time_to_regain_access"))
            wait = regain * 60 if regain and regain > 0 else USAGE_WAIT if _over(entry, threshold) else None
            if wait is not None:
                business_wait = max(business_wait or 0.0, wait)
    return app_wait, business_wait


def publishing_quota_left(answer: Any) -> int | None:
    """Posts left in Instagram's moving 24 h, from `content_publishing_limit`
    (`{"data": [{"quota_usage": n, "config": {"quota_total": m}}]}`); None
    when the answer does not say (then Instagram's own refusal is the check)."""
    data = answer.get("data") if isinstance(answer, dict) else None
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else None
    if first is None:
        return None
    used = _number(first.get("quota_usage"))
    config = first.get("config")
    total = _number(config.get("quota_total")) if isinstance(config, dict) else None
    if used is None or total is None:
        return None
    return int(total - used)


def _over(usage: Mapping[str, Any], threshold: float) -> bool:
    return any((_number(usage.get(name)) or 0.0) >= threshold for name in _USAGE_FIELDS)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _json_object(raw: str | None) -> Any:
    import json

    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
