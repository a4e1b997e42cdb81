"""notify-device: provider calls per notify (counted at the fake Linq server) and
AWS calls per notify (botocore 'before-call' hook on layers_shared.aws clients).

Expected provider calls: the first notify to a phone is 1 chat creation (it
carries the media) + 2 message sends; every later one is 1 read of the
chat's newest message (the position its read-backs start after, ADR 0056) +
3 sends; nothing else (no greeting).

    make bench            (or: PYTHONPATH=. python bench/bench_notify.py)
"""
from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from typing import Any

SENDER = "+12052535597"
REPEATS = int(os.environ.get("BENCH_NOTIFY_REPEATS", "5"))


def _provider_calls(fake: Any) -> dict[str, int]:
    from tests.fakes.linq import CREATE_CHAT, LIST_CHATS, LIST_MESSAGES, PHONE_NUMBERS, SEND

    calls = {
        "chat_creations": len(fake.received("POST", CREATE_CHAT)),
        "message_sends": len(fake.received("POST", SEND)),
        "reads": (len(fake.received("GET", LIST_CHATS)) + len(fake.received("GET", LIST_MESSAGES))
                  + len(fake.received("GET", PHONE_NUMBERS))),
    }
    calls["total"] = len(fake.requests)
    return calls


def run() -> dict[str, object]:
    os.environ.setdefault("RATE_LIMITS_JSON", '{"standard": {"read-light": 100000, "write-light": 100000}}')
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from bench.aws_calls import CallCounter
    from local.server import Stack
    from tests.fakes.linq import FakeLinq
    from tests.support import KEY, LIVE_KEY, SLIDESHOW, VIDEO

    saved = {k: os.environ.get(k) for k in ("LINQ_API_BASE", "LINQ_API_TOKEN", "LINQ_FROM_NUMBER",
                                            "LINQ_TOKEN_SECRET_ARN", "SMS_PROVIDER")}
    stack = Stack()
    fake = FakeLinq().start()
    try:
        os.environ.update({"LINQ_API_BASE": fake.base_url, "LINQ_API_TOKEN": fake.token, "LINQ_FROM_NUMBER": SENDER})
        for name in ("LINQ_TOKEN_SECRET_ARN", "SMS_PROVIDER"):
            os.environ.pop(name, None)
        counter = CallCounter().install()

        def notify(key: str, container: str, body: dict[str, Any], idem: str | None = None) -> tuple[dict, float]:
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            if idem:
                headers["Idempotency-Key"] = idem
            with counter.counting() as calls:
                started = time.perf_counter()
                status, _, payload = stack.invoke("POST", f"/v1/content/{container}/notify-device", headers,
                                                  json.dumps(body).encode())
                elapsed = (time.perf_counter() - started) * 1000
            assert status == 200, payload
            return {"total": sum(calls.values()), "by_api": dict(sorted(calls.items()))}, elapsed

        result: dict[str, object] = {}

        # Live key, Linq (the fake): provider calls and AWS calls, first time and later.
        phone = "+1555300" + "1234"
        before = _provider_calls(fake)
        aws_first, _ = notify(LIVE_KEY, SLIDESHOW, {"phoneNumber": phone}, str(uuid.uuid4()))
        first = {k: v - before[k] for k, v in _provider_calls(fake).items()}
        before = _provider_calls(fake)
        aws_later, _ = notify(LIVE_KEY, SLIDESHOW, {"phoneNumber": phone}, str(uuid.uuid4()))
        later = {k: v - before[k] for k, v in _provider_calls(fake).items()}
        result["linq_provider_calls_first_notify_to_a_phone"] = first
        result["linq_provider_calls_later_notify"] = later
        result["aws_calls_live_first_notify"] = aws_first
        result["aws_calls_live_later_notify"] = aws_later

        # Test key, sandbox: every accepted text is also a sandbox-delivery put.
        sandbox_phone = "+1555300" + "5678"
        result["aws_calls_sandbox_first_notify"], _ = notify(KEY, VIDEO, {"phoneNumber": sandbox_phone},
                                                             str(uuid.uuid4()))
        result["aws_calls_sandbox_owner_phone_no_key"], _ = notify(KEY, VIDEO, {})
        idem = str(uuid.uuid4())
        notify(KEY, VIDEO, {"phoneNumber": sandbox_phone}, idem)
        result["aws_calls_idempotent_replay"], _ = notify(KEY, VIDEO, {"phoneNumber": sandbox_phone}, idem)

        # In-process latency of a later live notify (fake Linq on loopback, moto): a shape, not a promise.
        samples = [notify(LIVE_KEY, VIDEO, {"phoneNumber": phone})[1] for _ in range(REPEATS)]
        result["live_later_notify_ms_median"] = round(statistics.median(samples), 1)
        return result
    finally:
        fake.stop()
        stack.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
