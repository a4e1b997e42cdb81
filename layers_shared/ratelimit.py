"""Per-organization rate limits: fixed one-minute windows on shared atomic
counters (the `RateCounters` port), so the limit holds across every Lambda instance."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from layers_shared import clock, config, errors

if TYPE_CHECKING:
    from layers_shared.domain.ports import RateCounters

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Budget:
    endpoint_class: str
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Endpoint-Class": self.endpoint_class,
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


def limit_for(tier: str, endpoint_class: str) -> int:
    limits = config.rate_limits()
    return limits.get(tier, limits["standard"])[endpoint_class]


def consume(counters: RateCounters, *, organization_id: str, env: str, tier: str, endpoint_class: str) -> Budget:
    """Count this request; raise 429 when the window's budget is spent.

    Test keys count in their own bucket, so a sandbox run cannot starve
    production traffic of the same organization.
    """
    now = clock.epoch_seconds(clock.now())
    window = now - now % WINDOW_SECONDS
    reset = window + WINDOW_SECONDS
    limit = limit_for(tier, endpoint_class)
    # Kept one window past its end: a late request of the window still finds its count.
    used = counters.count(f"{organization_id}#{env}#{endpoint_class}#{window}", reset + WINDOW_SECONDS)
    budget = Budget(endpoint_class, limit, max(limit - used, 0), reset)
    if used > limit:
        error = errors.rate_limited(max(reset - now, 1), endpoint_class)
        error.headers.update(budget.headers())
        raise error
    return budget
