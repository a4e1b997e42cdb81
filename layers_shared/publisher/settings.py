"""Timings of the publisher, read from the environment when used (tests and the
local stack shorten them; the defaults are what a deployment runs)."""
from __future__ import annotations

from dataclasses import dataclass

from layers_shared import config

MAX_SQS_DELAY = 900  # SQS DelaySeconds ceiling


def _number(name: str, default: float) -> float:
    raw = config.env(name)
    try:
        return float(raw) if raw is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Timings:
    lease: float            # a worker's hold on a post; longer than the function timeout
    retry_base: float       # first backoff after a retryable error; doubles per attempt
    max_attempts: int       # submits per post (decisions.md: at most 5 ...)
    retry_window: float     # ... within 10 minutes of the first attempt
    poll_base: float        # first wait before reading a processing post; grows
    poll_cap: float
    processing_limit: float  # give up on a platform that never finishes processing
    sweep_grace: float      # due posts younger than this are left to their trigger (and its messages)


def timings() -> Timings:
    return Timings(
        lease=_number("PUBLISH_LEASE_SECONDS", 300),
        retry_base=_number("PUBLISH_RETRY_BASE_SECONDS", 15),
        max_attempts=int(_number("PUBLISH_MAX_ATTEMPTS", 5)),
        retry_window=_number("PUBLISH_RETRY_WINDOW_SECONDS", 600),
        poll_base=_number("PUBLISH_POLL_BASE_SECONDS", 5),
        poll_cap=min(_number("PUBLISH_POLL_CAP_SECONDS", 120), MAX_SQS_DELAY),
        processing_limit=_number("PUBLISH_PROCESSING_LIMIT_SECONDS", 2 * 3600),
        # Longer than a burst takes to drain (make loadmodel: 100,000 posts,
        # p99 31 s), so the sweeper does not re-send posts whose slot's
        # messages are still queued; a lost trigger costs up to this + 1 min.
        sweep_grace=_number("PUBLISH_SWEEP_GRACE_SECONDS", 120),
    )
