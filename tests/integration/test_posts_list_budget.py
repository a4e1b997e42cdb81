"""The scheduled-post list reads a bounded amount per request (docs/adr/0042-bounded-list-reads.md,
0043-keys-only-post-listing.md: keys from GSI3, then the items with BatchGetItem).

A project partition three times the per-request read budget, written straight
into the table; the few posts that match the filters lie at the very end of
the partition (the oldest `scheduledFor`, since the list is newest first)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator
from urllib.parse import urlencode

import pytest

from layers_shared import aws, clock
from layers_shared.models.entities import ScheduledPost
from layers_shared.store import posts as post_store
from layers_shared.store import codec, items, keys
from tests.support import TIKTOK, prj, schedule_posts

PROJECT = prj(1)
LIST = f"/v1/projects/{PROJECT}/scheduled-posts"
MATCHING = 2


@pytest.fixture(scope="module")
def partition(api, stack):
    """Post ids newest first: (all, the failed ones, the failed and canceled ones)."""
    base = (datetime.now(timezone.utc) + timedelta(days=30)).replace(second=0, microsecond=0)
    [template_id] = schedule_posts(api, [{"socialAccountId": TIKTOK, "mode": "publish"}],
                                   when=clock.to_wire(base))
    template = ScheduledPost.model_validate(stack.table.get(keys.scheduled_post(template_id)))
    total = 3 * post_store.LIST_KEY_BUDGET
    made = [template]
    for i in range(1, total):
        post_id = f"sp_00000000-0000-4000-8000-{i:012d}"
        made.append(template.model_copy(update={
            "id": post_id, "scheduledFor": clock.to_storage(base - timedelta(seconds=i)),
            "status": "failed" if i >= total - MATCHING else "canceled" if i % 7 == 3 else "queued"}))
    client = aws.client("dynamodb")
    rows = [items.to_item(p) for p in made[1:]]
    for start in range(0, len(rows), 25):
        request = {stack.table.name: [{"PutRequest": {"Item": codec.serialize(r)}} for r in rows[start:start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
    every = [p.id for p in made]  # built newest first
    return every, [p.id for p in made if p.status == "failed"], [p.id for p in made if p.status != "queued"]


class ListQueries:
    """Query calls on the list's index (auth and rate limiting make their own), with their
    Limits, and the BatchGetItem calls behind them, with their key counts (negative when
    they read whole items, positive when only the filtered attributes)."""

    def __init__(self) -> None:
        self.limits: list[int] = []
        self.gets: list[int] = []
        self.enabled = False

    def hook(self, params, **_kwargs) -> None:  # botocore 'before-parameter-build' event
        if self.enabled and params.get("IndexName") == post_store.LISTING_INDEX:
            self.limits.append(params.get("Limit", 0))

    def batch_hook(self, params, **_kwargs) -> None:
        if self.enabled:
            for request in params["RequestItems"].values():  # negative: the keys of a read of whole items
                self.gets.append(len(request["Keys"]) * (1 if "ProjectionExpression" in request else -1))

    @contextmanager
    def counting(self) -> Iterator[list[int]]:
        self.limits, self.gets = [], []
        self.enabled = True
        try:
            yield self.limits
        finally:
            self.enabled = False


@pytest.fixture(scope="module")
def counter():
    queries = ListQueries()
    events = aws.client("dynamodb").meta.events
    events.register("before-parameter-build.dynamodb.Query", queries.hook)
    events.register("before-parameter-build.dynamodb.BatchGetItem", queries.batch_hook)
    yield queries
    events.unregister("before-parameter-build.dynamodb.Query", queries.hook)
    events.unregister("before-parameter-build.dynamodb.BatchGetItem", queries.batch_hook)


def _walk(api, counter, params: dict[str, str]) -> tuple[list[dict], list[list[int]], list[list[int]]]:
    """Every page until nextCursor is null, the Limits of the list Queries of each
    request and the key counts of its BatchGetItem calls."""
    pages, queries, gets, cursor = [], [], [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        with counter.counting() as limits:
            reply = api.get(f"{LIST}?{urlencode(query)}")
        assert reply.status == 200, reply.body
        pages.append(reply.body)
        queries.append(list(limits))
        gets.append(list(counter.gets))
        cursor = reply.body["nextCursor"]
        if cursor is None:
            return pages, queries, gets
        assert len(pages) < 200, "pagination does not end"


def test_a_filter_that_matches_nothing_nearby_reads_a_bounded_amount(api, counter, partition):
    every, failed, _sparse = partition
    pages, queries, gets = _walk(api, counter, {"status": "failed", "limit": "1"})
    assert max(len(q) for q in queries) <= post_store.LIST_QUERY_CALLS
    assert max(sum(q) for q in queries) <= post_store.LIST_KEY_BUDGET
    assert max(len(g) for g in gets) <= post_store.LIST_BATCH_GETS == 11
    assert all(abs(keys) <= 100 for g in gets for keys in g)
    assert max(sum(abs(k) for k in g) for g in gets) <= post_store.LIST_KEY_BUDGET + 1
    # The scan reads only the filtered attributes; whole items are read for the page alone.
    assert all(sum(1 for k in g if k < 0) <= 1 and -sum(k for k in g if k < 0) <= 1 for g in gets)
    # The budget ran out before the matches: an empty page that still carries a cursor.
    assert pages[0] == {"items": [], "nextCursor": pages[0]["nextCursor"]} and pages[0]["nextCursor"]
    assert [i["id"] for p in pages for i in p["items"]] == failed
    assert all(len(p["items"]) <= 1 for p in pages)
    # Each request got through at most the budget, so the partition took several.
    assert len(pages) >= len(every) // post_store.LIST_KEY_BUDGET


def test_following_the_cursor_visits_every_match_once_in_order(api, counter, partition):
    _every, _failed, sparse = partition
    pages, queries, gets = _walk(api, counter, {"status": "canceled,failed", "limit": "100"})
    assert [i["id"] for p in pages for i in p["items"]] == sparse
    assert max(len(q) for q in queries) <= post_store.LIST_QUERY_CALLS
    assert max(len(g) for g in gets) <= post_store.LIST_BATCH_GETS
    assert all(sum(1 for k in g if k < 0) <= 1 for g in gets)  # whole items: one BatchGetItem, the page's


def test_without_filters_a_page_is_one_query_and_one_batch_get(api, counter, partition):
    every, _failed, _sparse = partition
    with counter.counting() as limits:
        reply = api.get(f"{LIST}?limit=100")
    assert [i["id"] for i in reply.body["items"]] == every[:100] and reply.body["nextCursor"]
    assert limits == [101]  # one key past the page, to know whether another page exists
    assert counter.gets == [-100]  # ... whose item is not read: one BatchGetItem of the page's whole items
