"""Rate limiting on the in-memory counters: fixed one-minute windows per
organization, key environment and endpoint class; the 429 says when to retry."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

import pytest

from layers_shared import clock, errors, ratelimit
from tests.fakes.store import InMemoryRateCounters

START = datetime(2026, 5, 20, 9, 0, 10, tzinfo=timezone.utc)  # 10 s into a window


@pytest.fixture(autouse=True)
def limits(monkeypatch) -> Iterator[None]:
    monkeypatch.setattr(ratelimit, "limit_for", lambda tier, endpoint_class: 2)
    clock.set_now(START)
    yield
    clock.set_now(None)


def consume(counters, env: str = "live", endpoint_class: str = "write-light") -> ratelimit.Budget:
    return ratelimit.consume(counters, organization_id="org_1", env=env, tier="standard",
                             endpoint_class=endpoint_class)


def test_the_budget_counts_down_then_refuses_until_the_window_ends():
    counters = InMemoryRateCounters()
    assert [consume(counters).remaining for _ in range(2)] == [1, 0]
    with pytest.raises(errors.ApiError) as refused:
        consume(counters)
    assert (refused.value.status, refused.value.headers["Retry-After"]) == (429, "50")
    assert refused.value.headers["X-RateLimit-Remaining"] == "0"
    clock.set_now(datetime(2026, 5, 20, 9, 1, 0, tzinfo=timezone.utc))
    assert consume(counters).remaining == 1


def test_test_keys_and_endpoint_classes_have_their_own_budgets():
    counters = InMemoryRateCounters()
    for _ in range(2):
        consume(counters)
    assert consume(counters, env="test").remaining == 1
    assert consume(counters, endpoint_class="read-light").remaining == 1
