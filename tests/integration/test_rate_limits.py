"""Rate limits hold across Lambda instances: two independently loaded copies
of a function (each with its own Endpoint and Table client) share one
DynamoDB table, and the atomic counter there is the only budget.

Each test freezes the clock in its own minute, so windows never overlap
between tests, and sets small limits through RATE_LIMITS_JSON (restored
afterwards: the rest of the suite runs with huge limits)."""
from __future__ import annotations

import importlib.util
import itertools
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.support import KEY, LIVE_KEY, OTHER_ORG_KEY, READ_KEY, cnt

ROOT = Path(__file__).resolve().parents[2]
LIMITS = {"standard": {"read-light": 5, "write-light": 3}, "pilot": {"read-light": 7, "write-light": 4}}
_minutes = itertools.count(1)


def load_instance(function: str, name: str) -> Any:
    """functions/<function>/app.py as a fresh module: a separate 'Lambda instance'."""
    spec = importlib.util.spec_from_file_location(f"rl_{function}_{name}", ROOT / "functions" / function / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Instance:
    def __init__(self, function: str, name: str, method: str, resource: str):
        self.module = load_instance(function, name)
        self.method, self.resource = method, resource

    def call(self, key: str | None, path: str | None = None, path_params: dict[str, str] | None = None,
             body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict]:
        from local import events

        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            all_headers["Authorization"] = f"Bearer {key}"
        event = events.proxy_event(method=self.method, path=path or self.resource, query="", headers=all_headers,
                                   body=body, resource=self.resource, path_params=path_params or {})
        result = self.module.handler(event, events.LambdaContext("rate-limit-test"))
        out = dict(result.get("headers") or {})
        for k, values in (result.get("multiValueHeaders") or {}).items():
            out[k] = ",".join(values)
        return int(result["statusCode"]), out, json.loads(result["body"])


@pytest.fixture
def limits(stack):
    """Small limits and a frozen clock at 5 s into a minute of its own."""
    from layers_shared import clock, config

    previous = os.environ.get("RATE_LIMITS_JSON")
    os.environ["RATE_LIMITS_JSON"] = json.dumps(LIMITS)
    config.rate_limits.cache_clear()
    start = datetime(2031, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=next(_minutes) * 3, seconds=5)
    clock.set_now(start)
    yield start
    clock.set_now(None)
    if previous is None:
        os.environ.pop("RATE_LIMITS_JSON", None)
    else:
        os.environ["RATE_LIMITS_JSON"] = previous
    config.rate_limits.cache_clear()


@pytest.fixture
def whoami_a():
    return Instance("whoami", "a", "GET", "/v1/whoami")


@pytest.fixture
def whoami_b():
    return Instance("whoami", "b", "GET", "/v1/whoami")


def approve_instance(name: str) -> Instance:
    return Instance("approve_content", name, "POST", "/v1/content/{containerId}/approve")


def approve_missing(instance: Instance, key: str, headers: dict[str, str] | None = None):
    """A write that is counted and answers 404 (no container): no state changes."""
    missing = cnt(4040)
    return instance.call(key, f"/v1/content/{missing}/approve", {"containerId": missing}, headers=headers)


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def test_two_instances_count_against_one_budget(limits, whoami_a, whoami_b):
    window_end = epoch(limits) - 5 + 60
    remaining = []
    for instance in (whoami_a, whoami_b, whoami_a, whoami_b, whoami_b):
        status, headers, _ = instance.call(KEY)
        assert status == 200
        assert headers["X-RateLimit-Endpoint-Class"] == "read-light"
        assert headers["X-RateLimit-Limit"] == "5" and headers["X-RateLimit-Reset"] == str(window_end)
        remaining.append(int(headers["X-RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]

    for instance in (whoami_a, whoami_b):
        status, headers, body = instance.call(KEY)
        assert status == 429
        error = body["error"]
        assert error["code"] == "RATE_LIMITED" and error["requestId"] == headers["X-Request-Id"]
        assert error["details"] == {"endpointClass": "read-light", "retryAfter": 55}
        assert headers["Retry-After"] == "55"
        assert headers["X-RateLimit-Endpoint-Class"] == "read-light"
        assert headers["X-RateLimit-Limit"] == "5" and headers["X-RateLimit-Remaining"] == "0"
        assert headers["X-RateLimit-Reset"] == str(window_end)


def test_concurrent_callers_on_two_instances_get_exactly_the_limit(limits, whoami_a, whoami_b):
    statuses: list[int] = []
    lock = threading.Lock()

    def hit(instance: Instance) -> None:
        status, _, _ = instance.call(KEY)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=hit, args=(whoami_a if i % 2 else whoami_b,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 5 + [429] * 11


def test_test_and_live_keys_have_separate_budgets(limits, whoami_a, whoami_b):
    for _ in range(5):
        assert whoami_a.call(KEY)[0] == 200
    assert whoami_b.call(KEY)[0] == 429
    assert whoami_b.call(READ_KEY)[0] == 429  # another test key of the org: the same (test) bucket
    status, headers, _ = whoami_b.call(LIVE_KEY)
    assert status == 200 and headers["X-RateLimit-Remaining"] == "4"


def test_organizations_have_separate_budgets(limits, whoami_a):
    for _ in range(5):
        whoami_a.call(KEY)
    assert whoami_a.call(KEY)[0] == 429
    status, headers, _ = whoami_a.call(OTHER_ORG_KEY)
    assert status == 200 and headers["X-RateLimit-Remaining"] == "4"


def test_read_and_write_classes_are_separate(limits, whoami_a):
    writer_a, writer_b = approve_instance("a"), approve_instance("b")
    for _ in range(5):
        whoami_a.call(KEY)
    assert whoami_a.call(KEY)[0] == 429
    seen = []
    for writer in (writer_a, writer_b, writer_a):
        status, headers, body = approve_missing(writer, KEY)
        assert status == 404 and body["error"]["code"] == "NOT_FOUND"
        assert headers["X-RateLimit-Endpoint-Class"] == "write-light" and headers["X-RateLimit-Limit"] == "3"
        seen.append(headers["X-RateLimit-Remaining"])
    assert seen == ["2", "1", "0"]
    status, headers, body = approve_missing(writer_b, KEY)
    assert status == 429 and headers["X-RateLimit-Endpoint-Class"] == "write-light"
    assert whoami_a.call(KEY)[0] == 429  # reads still spent; writes did not touch them


def test_the_window_resets(limits, whoami_a, whoami_b):
    from layers_shared import clock

    for _ in range(5):
        whoami_a.call(KEY)
    status, headers, _ = whoami_b.call(KEY)
    assert status == 429
    clock.set_now(limits + timedelta(seconds=54))  # still the same window: 1 s left
    status, headers, _ = whoami_b.call(KEY)
    assert status == 429 and headers["Retry-After"] == "1"
    clock.set_now(limits + timedelta(seconds=55))  # the next minute
    status, headers, _ = whoami_b.call(KEY)
    assert status == 200
    assert headers["X-RateLimit-Remaining"] == "4"
    assert headers["X-RateLimit-Reset"] == str(epoch(limits) - 5 + 120)


def test_the_tier_decides_the_limit(limits, stack, whoami_a):
    from layers_shared.store import keys

    key_item = keys.api_key("OTHERORG00000008")
    stack.table.update(key_item, "SET tier = :t", values={":t": "pilot"})
    try:
        statuses = [whoami_a.call(OTHER_ORG_KEY)[0] for _ in range(8)]
        _, headers, _ = whoami_a.call(OTHER_ORG_KEY)
    finally:
        stack.table.update(key_item, "SET tier = :t", values={":t": "standard"})
    assert statuses == [200] * 7 + [429]
    assert headers["X-RateLimit-Limit"] == "7"


def test_a_429_is_not_remembered_by_idempotency(limits):
    from layers_shared import clock

    writer = approve_instance("idem")
    for _ in range(3):
        approve_missing(writer, KEY)
    status, _, _ = approve_missing(writer, KEY, headers={"Idempotency-Key": "rl-retry-1"})
    assert status == 429
    clock.set_now(limits + timedelta(minutes=1))
    status, headers, body = approve_missing(writer, KEY, headers={"Idempotency-Key": "rl-retry-1"})
    assert status == 404 and "Idempotent-Replayed" not in headers


def test_unauthenticated_calls_are_not_counted(limits, whoami_a):
    for _ in range(10):
        status, headers, _ = whoami_a.call("lp_test_ACMETEST00000001_wrong-secret")
        assert status == 401 and "X-RateLimit-Limit" not in headers
    status, headers, _ = whoami_a.call(KEY)
    assert status == 200 and headers["X-RateLimit-Remaining"] == "4"


def test_every_answer_over_http_carries_the_headers(api):
    """Through the local stack with the suite's (huge) limits: success and error alike."""
    for reply, endpoint_class in (
        (api.get("/v1/whoami"), "read-light"),
        (api.get("/v1/tiktok-music"), "read-light"),
        (api.get(f"/v1/content/{cnt(4040)}"), "read-light"),
        (api.post(f"/v1/content/{cnt(4040)}/approve"), "write-light"),
        (api.post(f"/v1/content/{cnt(4040)}/reject", {}), "write-light"),
    ):
        assert reply.header("X-RateLimit-Endpoint-Class") == endpoint_class, reply.headers
        limit = int(reply.header("X-RateLimit-Limit"))
        assert 0 <= int(reply.header("X-RateLimit-Remaining")) < limit
        assert int(reply.header("X-RateLimit-Reset")) % 60 == 0
