"""Posts due in the same second on the local stack are each published exactly
once, and `bench/load.py` (public API only, over HTTP) reports it: 200 sandbox
posts to the 50 accounts of local/seed/load.json, four schedule requests of 50
targets. The 2,000-post run and its figures are in docs/benchmarks.md; this
is its CI size and asserts no timing."""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import pytest

from tests.support import KEY, ROOT, VIDEO

POSTS = 200


@pytest.fixture(scope="module")
def load_stack():
    import local.plugins  # noqa: F401
    from local.server import Stack, serve_in_thread

    world = Stack(ROOT / "local" / "seed" / "load.json")
    server, base = serve_in_thread(world)
    try:
        yield world, base
    finally:
        server.shutdown()
        server.server_close()
        world.stop()


def _report(stdout: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in stdout.splitlines() if ": " in line)


def test_posts_due_in_one_second_are_each_published_once_and_the_report_says_so(load_stack):
    world, base = load_stack
    run = subprocess.run([sys.executable, "bench/load.py", "--base-url", base, "--key", KEY, "--container", VIDEO,
                          "--posts", str(POSTS), "--at", "+6s", "--timeout", "120", "--poll-every", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout + run.stderr
    report = _report(run.stdout)
    assert report["posts scheduled"].startswith(f"{POSTS} in 4 requests")
    assert report["published"] == str(POSTS)
    assert report["failed"] == "0" and report["still pending"] == "0" and report["not scheduled"] == "0"
    assert report["duplicates"].startswith("0 (extra sandbox deliveries); published without a delivery: 0")
    for name in ("lateness publishedAt-scheduledFor s", "lateness attemptedAt-scheduledFor s"):
        found = re.fullmatch(r"p50 (\S+)  p90 (\S+)  p99 (\S+)  max (\S+)  \(n=(\d+)\)", report[name])
        assert found, report[name]
        p50, p90, p99, top = (float(v) for v in found.groups()[:4])
        assert 0 <= p50 <= p90 <= p99 <= top and int(found.group(5)) == POSTS

    # What the report says, read from the stack itself: one sandbox delivery
    # per post, every post published, all due at the same instant.
    from layers_shared.sandbox import deliveries

    per_post = Counter(d["scheduledPostId"] for d in deliveries.list_all(world.table) if d["kind"] == "post")
    assert len(per_post) == POSTS and set(per_post.values()) == {1}
    posts = [world.table.get({"PK": f"SP#{post_id}", "SK": "META"}) for post_id in per_post]
    assert {p["status"] for p in posts} == {"published"}
    assert len({p["scheduledFor"] for p in posts}) == 1
    assert {p["scheduledFor"] for p in posts} == {f"{report['due at (T)'][:-1]}.000Z"}
