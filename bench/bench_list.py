"""Scheduled-post list: DynamoDB calls (Query on the listing index, BatchGetItem),
keys evaluated and time per request when a filter matches nothing nearby
(docs/adr/0042-bounded-list-reads.md, 0043-keys-only-post-listing.md).

A project partition of BENCH_LIST_POSTS posts (default 3000) whose only two
`failed` posts are the oldest, listed with `status=failed&limit=1` until
`nextCursor` is null.

    make bench            (or: PYTHONPATH=. .venv/bin/python bench/bench_list.py)
"""
from __future__ import annotations

import json
import os
import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

POSTS = int(os.environ.get("BENCH_LIST_POSTS", "3000"))
LISTING_INDEXES = ("GSI1", "GSI3")  # the listing's index before and after ADR 0043


def run() -> dict[str, object]:
    os.environ.setdefault("RATE_LIMITS_JSON", '{"standard": {"read-light": 100000, "write-light": 100000}}')
    from layers_shared import aws, clock
    from layers_shared.models.entities import ScheduledPost
    from layers_shared.store import codec, items, keys
    import local.plugins  # noqa: F401 - the local stack's doubles, as the tests install them
    from local import publisher_loop
    from local.server import Stack

    for name, value in publisher_loop.standalone_environment().items():
        os.environ.setdefault(name, value)

    stack = Stack()
    try:
        fixture = json.loads(stack.seed_path.read_text(encoding="utf-8"))
        key = next(k["key"] for k in fixture["apiKeys"] if "ACMETEST" in k["key"])
        headers = {"Authorization": f"Bearer {key}"}
        project = fixture["projects"][0]["id"]
        container = next(c["id"] for c in fixture["containers"] if c["projectId"] == project
                         and c["status"] == "completed" and c.get("approvalStatus") in (None, "not_required")
                         and c.get("mediaType") == "video")
        account = next(a["id"] for a in fixture["socialAccounts"]
                       if a["projectId"] == project and a["platform"] == "tiktok"
                       and a["status"] == "connected")
        base = clock.plus(clock.now(), minutes=60 * 24 * 30)
        body = json.dumps({"scheduledFor": clock.to_wire(base),
                           "targets": [{"socialAccountId": account, "mode": "publish"}]}).encode()
        status, _, payload = stack.invoke("POST", f"/v1/content/{container}/schedule", headers, body)
        assert status == 200, payload
        template_id = json.loads(payload)["scheduledPostIds"][0]
        template = ScheduledPost.model_validate(stack.table.get(keys.scheduled_post(template_id)))
        client = aws.client("dynamodb")
        rows = [items.to_item(template.model_copy(update={
            "id": f"sp_00000000-0000-4000-8000-{i:012d}",
            "scheduledFor": clock.to_storage(base - timedelta(seconds=i)),
            "status": "failed" if i >= POSTS - 2 else "queued"})) for i in range(1, POSTS)]
        for start in range(0, len(rows), 25):
            request = {stack.table.name: [{"PutRequest": {"Item": codec.serialize(r)}} for r in rows[start:start + 25]]}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

        per_request: list[dict[str, float]] = []
        current: dict[str, float] = {}

        def hook(params, **_kwargs) -> None:  # botocore 'before-parameter-build'
            if params.get("IndexName") in LISTING_INDEXES:
                current["queries"] = current.get("queries", 0) + 1
                current["limit_sum"] = current.get("limit_sum", 0) + params.get("Limit", 0)

        def batch_hook(params, **_kwargs) -> None:
            current["batch_gets"] = current.get("batch_gets", 0) + 1
            current["items_read"] = current.get("items_read", 0) + sum(
                len(r.get("Keys", [])) for r in params.get("RequestItems", {}).values())

        client.meta.events.register("before-parameter-build.dynamodb.Query", hook)
        client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", batch_hook)
        cursor, found = None, 0
        while True:
            current.clear()
            query = {"status": "failed", "limit": "1", **({"cursor": cursor} if cursor else {})}
            started = time.perf_counter()
            status, _, payload = stack.invoke("GET", f"/v1/projects/{project}/scheduled-posts?{urlencode(query)}",
                                              headers, b"")
            assert status == 200, payload
            page = json.loads(payload)
            per_request.append({**current, "ms": (time.perf_counter() - started) * 1000})
            found += len(page["items"])
            cursor = page["nextCursor"]
            if cursor is None:
                break
        client.meta.events.unregister("before-parameter-build.dynamodb.Query", hook)
        client.meta.events.unregister("before-parameter-build.dynamodb.BatchGetItem", batch_hook)
        return {
            "posts": POSTS, "requests": len(per_request), "matches_found": found,
            "max_query_calls_per_request": max(r.get("queries", 0) for r in per_request),
            "max_keys_evaluated_per_request": max(r.get("limit_sum", 0) for r in per_request),
            "max_batch_get_calls_per_request": max(r.get("batch_gets", 0) for r in per_request),
            "max_items_read_by_batch_get_per_request": max(r.get("items_read", 0) for r in per_request),
            "max_calls_per_request": max(r.get("queries", 0) + r.get("batch_gets", 0) for r in per_request),
            "total_query_calls": sum(r.get("queries", 0) for r in per_request),
            "total_batch_get_calls": sum(r.get("batch_gets", 0) for r in per_request),
            "median_ms_per_request_moto": round(statistics.median(r["ms"] for r in per_request), 1),
            "max_ms_per_request_moto": round(max(r["ms"] for r in per_request), 1),
        }
    finally:
        stack.stop()


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(json.dumps(run(), indent=2))
