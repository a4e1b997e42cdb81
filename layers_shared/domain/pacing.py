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

from typing import Callable, Sequence


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
