"""Per-organization rate limits: fixed one-minute windows on DynamoDB atomic
counters, so the limit holds across every Lambda instance."""
from __future__ import annotations

from dataclasses import dataclass

from layers_shared import clock, config, errors
from layers_shared.store import keys
from layers_shared.store.table import Table

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


def consume(table: Table, *, organization_id: str, env: str, tier: str, endpoint_class: str) -> Budget:
    """Count this request; raise 429 when the window's budget is spent.

    Test keys count in their own bucket, so a sandbox run cannot starve
    production traffic of the same organization.
    """
    now = clock.epoch_seconds(clock.now())
    window = now - now % WINDOW_SECONDS
    reset = window + WINDOW_SECONDS
    limit = limit_for(tier, endpoint_class)
    item = table.update(
        keys.key("RL", f"{organization_id}#{env}#{endpoint_class}#{window}"),
        "ADD #n :one SET expiresAt = if_not_exists(expiresAt, :exp)",
        names={"#n": "count"},
        values={":one": 1, ":exp": reset + WINDOW_SECONDS},
        return_new=True,
    )
    used = int(item["count"])
    budget = Budget(endpoint_class, limit, max(limit - used, 0), reset)
    if used > limit:
        error = errors.rate_limited(max(reset - now, 1), endpoint_class)
        error.headers.update(budget.headers())
        raise error
    return budget
