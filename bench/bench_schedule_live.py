"""Schedule endpoint with live TikTok `publish` targets: AWS calls and TikTok
calls per request for 1, 10 and 50 targets, with a cold and a warm
creator_info cache (docs/adr/0013-platform-limits-and-creator-info.md).

A cold request reads creator_info for every account (budget counter, token,
KMS decrypt, the call, the cache write); a warm one finds every account in the
batch read it already makes.

    make bench            (or: PYTHONPATH=. .venv/bin/python bench/bench_schedule_live.py)
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = (1, 10, 50)


def _fixture(groups: dict[int, list[str]]) -> dict:
    base = json.loads((ROOT / "local" / "seed" / "default.json").read_text())
    project = base["projects"][0]["id"]
    for accounts in groups.values():
        for account_id in accounts:
            n = account_id[-6:]
            base["socialAccounts"].append({
                "id": account_id, "projectId": project, "platform": "tiktok", "handle": f"live{n}",
                "status": "connected", "grantedScopes": ["video.publish", "video.upload"], "layerIds": [],
                "sandbox": {"outcome": "success"},
                "credentials": {"accessToken": f"act.bench-{n}", "refreshToken": f"rft.bench-{n}",
                                "expiresAt": "2099-01-01T00:00:00Z", "platformUserId": f"open_{n}"}})
    return base


def calls_per_request(sizes: tuple[int, ...] = SIZES) -> dict[str, object]:
    os.environ.setdefault("RATE_LIMITS_JSON", '{"standard": {"read-light": 100000, "write-light": 100000}}')
    from local.publisher_loop import standalone_environment

    for name, value in standalone_environment().items():  # the handlers refuse to start unconfigured
        os.environ.setdefault(name, value)
    from bench.aws_calls import CallCounter
    from layers_shared import clock
    from layers_shared.scheduling import trigger
    from local import aws_world
    from local.server import Stack
    from tests.fakes.tiktok import FakeTikTok

    groups = {n: [f"sa_{uuid.UUID(int=0x11E70000000000000000000000000000 + n * 1000 + i)}" for i in range(n)]
              for n in sizes}
    fixture = _fixture(groups)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(fixture, handle)
    fake = FakeTikTok().start()
    for accounts in groups.values():
        for account_id in accounts:
            fake.add_account(f"act.bench-{account_id[-6:]}", f"rft.bench-{account_id[-6:]}")
    previous = os.environ.get("TIKTOK_API_BASE")
    os.environ["TIKTOK_API_BASE"] = fake.url
    stack = Stack(handle.name)
    try:
        trigger.use(trigger.EventBridgeTrigger(group=aws_world.SCHEDULE_GROUP,
                                               target_arn="arn:aws:lambda:us-east-1:123456789012:function:publisher",
                                               role_arn="arn:aws:iam::123456789012:role/scheduler", dlq_arn=None,
                                               invoke_now=lambda event: None))
        counter = CallCounter().install()
        key = next(k["key"] for k in fixture["apiKeys"] if "ACMELIVE" in k["key"])
        container = fixture["containers"][1]["id"]  # image: no shareReelToFeed or duration concerns
        result: dict[str, object] = {}
        for n in sizes:
            for cache in ("cold", "warm"):
                when = clock.to_wire(clock.plus(clock.now(), minutes=60 + n + (cache == "warm")))
                body = json.dumps({"scheduledFor": when,
                                   "targets": [{"socialAccountId": a, "mode": "publish"} for a in groups[n]]})
                platform_before = len(fake.requests)
                started = time.perf_counter()
                with counter.counting() as calls:
                    status, _, payload = stack.invoke("POST", f"/v1/content/{container}/schedule",
                                                      {"Authorization": f"Bearer {key}",
                                                       "Idempotency-Key": str(uuid.uuid4())}, body.encode())
                elapsed = time.perf_counter() - started
                assert status == 200, payload
                result[f"targets_{n}_{cache}"] = {
                    "aws_total": sum(calls.values()), "aws_by_api": dict(sorted(calls.items())),
                    "tiktok_calls": len(fake.requests) - platform_before,
                    "local_ms": round(elapsed * 1000, 1),  # moto + a local fake: shape, not production latency
                }
        result["creator_info_max_per_token_per_minute"] = fake.max_creator_info_per_minute()
        return result
    finally:
        trigger.use(None)
        stack.stop()
        fake.stop()
        if previous is None:
            os.environ.pop("TIKTOK_API_BASE", None)
        else:
            os.environ["TIKTOK_API_BASE"] = previous
        os.unlink(handle.name)


def run() -> dict[str, object]:
    return {"calls_per_schedule_request": calls_per_request()}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
