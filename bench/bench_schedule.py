"""Schedule endpoint: cold import time beside bare `import boto3`, and AWS
calls per request for 1, 10 and 50 targets.

    make bench            (or: PYTHONPATH=. .venv/bin/python bench/bench_schedule.py)
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "7"))

_IMPORT = "import time,sys; t=time.perf_counter(); import {mod}; print(time.perf_counter()-t)"


def _import_seconds(module: str, cwd: Path) -> float:
    from local.publisher_loop import standalone_environment  # the handler refuses to import unconfigured

    env = {**standalone_environment(), **os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "0"}
    out = subprocess.run([sys.executable, "-c", _IMPORT.format(mod=module)], cwd=cwd, env=env,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold_import(function_dir: str = "functions/schedule_content") -> dict[str, object]:
    """Median of several fresh interpreters; the first run of each warms the bytecode cache."""
    fn_dir = ROOT / function_dir
    _import_seconds("app", fn_dir), _import_seconds("boto3", ROOT)
    fn = [_import_seconds("app", fn_dir) for _ in range(RUNS)]
    boto = [_import_seconds("boto3", ROOT) for _ in range(RUNS)]
    fn_ms, boto_ms = statistics.median(fn) * 1000, statistics.median(boto) * 1000
    return {"function_import_ms": round(fn_ms, 1), "boto3_import_ms": round(boto_ms, 1),
            "ratio": round(fn_ms / boto_ms, 2), "runs": RUNS}


def _fixture(n_accounts: int) -> dict:
    base = json.loads((ROOT / "local" / "seed" / "default.json").read_text())
    project = base["projects"][0]["id"]
    for i in range(n_accounts):
        base["socialAccounts"].append({
            "id": f"sa_{uuid.UUID(int=0xBE7C0000000000000000000000000000 + i)}", "projectId": project,
            "platform": "tiktok", "handle": f"bench{i}", "status": "connected",
            "grantedScopes": ["video.publish", "video.upload"], "layerIds": [], "sandbox": {"outcome": "success"}})
    return base


def calls_per_request(sizes: tuple[int, ...] = (1, 10, 50)) -> dict[str, object]:
    os.environ.setdefault("RATE_LIMITS_JSON", '{"standard": {"read-light": 100000, "write-light": 100000}}')
    import tempfile

    from bench.aws_calls import CallCounter
    from local import aws_world, events
    from local.server import Stack
    from layers_shared import aws, clock
    from layers_shared.scheduling import trigger

    fixture = _fixture(max(sizes))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(fixture, handle)
    stack = Stack(handle.name)
    try:
        trigger.use(trigger.EventBridgeTrigger(group=aws_world.SCHEDULE_GROUP,
                                               target_arn="arn:aws:lambda:us-east-1:123456789012:function:publisher",
                                               role_arn="arn:aws:iam::123456789012:role/scheduler", dlq_arn=None,
                                               invoke_now=lambda event: None))
        counter = CallCounter().install()
        key = next(k["key"] for k in fixture["apiKeys"] if "ACMETEST" in k["key"])
        container = fixture["containers"][0]["id"]
        accounts = [a["id"] for a in fixture["socialAccounts"] if a["handle"].startswith("bench")]
        result: dict[str, object] = {}
        for n in sizes:
            when = clock.to_wire(clock.plus(clock.now(), minutes=30 + n))
            body = json.dumps({"scheduledFor": when,
                               "targets": [{"socialAccountId": a, "mode": "publish"} for a in accounts[:n]]})
            with counter.counting() as calls:
                status, _, payload = stack.invoke("POST", f"/v1/content/{container}/schedule",
                                                  {"Authorization": f"Bearer {key}",
                                                   "Idempotency-Key": str(uuid.uuid4())}, body.encode())
            assert status == 200, payload
            result[f"targets_{n}"] = {"total": sum(calls.values()), "by_api": dict(sorted(calls.items()))}
        _ = events, aws
        return result
    finally:
        trigger.use(None)
        stack.stop()
        os.unlink(handle.name)


def run() -> dict[str, object]:
    return {"cold_import": cold_import(), "aws_calls_per_schedule_request": calls_per_request()}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
