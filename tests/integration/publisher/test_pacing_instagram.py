"""Instagram pacing (issue 13): the publishing quota per account per 24 h
(`content_publishing_limit`) and Meta's usage headers, against the fake Graph
API on simulated time. A post held back is deferred: no attempt spent, never
failed for it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from layers_shared import clock
from layers_shared.platforms.instagram import InstagramAdapter
from layers_shared.publisher import messages
from tests.fakes.http_server import Fault
from tests.fakes.instagram import VERSION, FakeInstagram
from tests.integration.publisher.test_pacing import _deliver_all
from tests.support import INSTAGRAM

QUOTA = rf"/{VERSION}/[^/]+/content_publishing_limit"


@pytest.fixture
def instagram():
    with FakeInstagram() as fake:
        fake.add_account("act.local-example", "17841400000000001", "business")
        fake.container_polls = 0
        fake.clock = lambda: clock.now().timestamp()
        yield fake


def _run(world, instagram, now, count):
    clock.set_now(now)
    adapter = InstagramAdapter(instagram.base_url, connect_timeout=0.5, read_timeout=2.0)
    publisher = world.publisher(adapter_for=lambda post: adapter)
    posts = [world.post(INSTAGRAM, when=now, env="live") for _ in range(count)]
    _deliver_all(world, publisher, now, [messages.publish(p, clock.to_storage(now)) for p in posts])
    return [world.read(p) for p in posts]


def test_posts_over_the_24_hour_quota_wait_for_it_and_are_never_refused(world, now, instagram):
    instagram.quota_total = 3
    items = _run(world, instagram, now, 5)
    assert [i["status"] for i in items] == ["published"] * 5
    assert instagram.quota_refused == 0 and len(instagram.publishes()) == 5
    assert all(i["attempts"] == 1 and "lastError" not in i for i in items)
    late = sorted(clock.from_storage(i["publishedAt"]) - now for i in items)[3:]
    assert all(timedelta(hours=24) <= wait <= timedelta(hours=24, minutes=16) for wait in late), late


def test_a_usage_header_near_the_limit_holds_the_next_posts_graph_calls(world, now, instagram):
    busy = json.dumps({"call_count": 96, "total_cputime": 10, "total_time": 12})
    instagram.fault("GET", QUOTA, Fault(status=200, headers={"X-App-Usage": busy}, body={
        "data": [{"quota_usage": 0, "config": {"quota_total": 50, "quota_duration": 86400}}]}))
    items = _run(world, instagram, now, 2)
    assert [i["status"] for i in items] == ["published"] * 2
    assert all(i["attempts"] == 1 for i in items)
    # The first post's quota read carried the header; the second post waited
    # the 5 minutes out before any Graph call of its own.
    second = max(clock.from_storage(i["publishedAt"]) for i in items) - now
    assert timedelta(minutes=5) <= second < timedelta(minutes=6), second
    held_calls = [r for r in instagram.requests if r.path.endswith("/media") and r.method == "POST"]
    assert len(held_calls) == 2


def test_without_pacing_the_quota_refusal_spends_attempts(world, now, instagram):
    """The control: with no pacing (what the code did before), the same five
    posts hit Instagram's refusal and use up their retries."""
    from layers_shared.publisher import adapters

    instagram.quota_total = 3
    original = adapters.delivery_for

    def unpaced(*args, **kw):
        delivery = original(*args, **kw)
        if hasattr(delivery, "pacing"):  # an Outcome (the account is gone) passes through
            delivery.pacing = None
        return delivery

    adapters.delivery_for = unpaced
    try:
        items = _run(world, instagram, now, 5)
    finally:
        adapters.delivery_for = original
    assert sorted(i["status"] for i in items) == ["failed", "failed", "published", "published", "published"]
    assert instagram.quota_refused > 0
