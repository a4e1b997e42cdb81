"""A project's post listing on GSI3, keys only (docs/adr/0043): publishing a
post writes nothing there, and the listing still shows what the post is now.

The publisher's own writes (store/post_leases.py, publisher/outcome.py) run
on the metered in-memory table, which charges index writes per projection as
DynamoDB does, and on moto, which answers an index query as DynamoDB does."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from layers_shared import aws
from layers_shared.domain.ports import PostListQuery
from layers_shared.models.entities import Media, ScheduledPost
from layers_shared.store import items, keys, post_leases
from layers_shared.store import posts as post_store
from layers_shared.store.posts import DynamoPosts
from tests.fakes.memory_table import MemoryTable
from tests.fakes.table_meter import TableMeter

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
DUE = "2026-06-01T12:00:00.000Z"


def _post(project_id: str, second: int = 0, status: str = "queued") -> ScheduledPost:
    return ScheduledPost(
        id=f"sp_{uuid.uuid4()}", organizationId="org_11111111-1111-4111-8111-111111111111", projectId=project_id,
        containerId="cnt_1", socialAccountId="sa_1", platform="tiktok", handle="@pour", mode="publish", env="test",
        status=status, scheduledFor=f"2026-06-01T11:59:{second:02d}.000Z", mediaType="video", caption="x" * 300,
        media=[Media(url="https://media.example.com/pour.mp4", kind="video")],
        createdAt="2026-05-01T00:00:00.000Z", updatedAt="2026-05-01T00:00:00.000Z")


def _publish(table, post: ScheduledPost) -> None:
    """What the publisher writes for a TikTok post: the claim, the submit's
    answer (a lease extension), a poll's step and its answer, the outcome."""
    token, _ = post_leases.claim(table, post.id, post.scheduledFor, NOW, 60)
    assert post_leases.record(table, post.id, token, {"nextAction": "poll", "platformPublishId": "v_pub_1",
                                                      "leaseUntil": "2026-06-01T12:01:05.000Z"}, [])
    token, _ = post_leases.take_step(table, post.id, token, "poll", NOW + timedelta(seconds=5), 60)
    assert post_leases.record(table, post.id, token, {"leaseUntil": "2026-06-01T12:01:10.000Z"}, [])
    assert post_leases.record(table, post.id, token, {"status": "published", "externalId": "7300000000000000001",
                                                      "publishedAt": "2026-06-01T12:00:10.000Z"},
                              ["GSI2PK", "GSI2SK", "leaseUntil", "nextAction"])


def _listing(table, project_id: str, statuses: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    page = DynamoPosts(table).list_for_project(PostListQuery(project_id, statuses, None, None, None, None, 50, None))
    return [(p.id, p.status) for p in page.posts]


def test_publishing_a_post_writes_its_listing_index_once_at_creation_only():
    meter = TableMeter(wcu_limit=1e12, rcu_limit=1e12)
    table = MemoryTable(observer=meter)
    project = f"prj_{uuid.uuid4()}"
    post = _post(project)
    table.put(items.to_item(post))
    created = {name: t.wru for name, t in meter.report().targets.items()}
    _publish(table, post)
    after = meter.report().targets
    assert created.get("GSI3") == 1  # the creation: one entry of ~200 B
    assert after["GSI3"].wru == created["GSI3"], "a status, lease or outcome write reached the listing index"
    assert after.get("GSI1") is None or after["GSI1"].wru == 0  # posts are not on GSI1 any more
    assert after[table.name].wru > created[table.name]  # the writes did happen, on the post's own item
    assert _listing(table, project) == [(post.id, "published")]


def test_a_reschedule_moves_the_listing_entry_in_the_same_write():
    meter = TableMeter(wcu_limit=1e12, rcu_limit=1e12)
    table = MemoryTable(observer=meter)
    project = f"prj_{uuid.uuid4()}"
    early, late = _post(project, 1), _post(project, 5)
    for p in (early, late):
        table.put(items.to_item(p))
    before = meter.report().targets["GSI3"].wru
    from layers_shared.domain.ports import ChangeEvents

    DynamoPosts(table).reschedule(early, "2026-06-01T12:09:00.000Z", DUE,
                                  ChangeEvents(f"{early.id}#r", early.organizationId, [], NOW))
    assert meter.report().targets["GSI3"].wru == before + 2  # the old entry's delete, the new one's put
    assert [i for i, _ in _listing(table, project)] == [early.id, late.id]


def test_on_moto_the_index_is_keys_only_and_the_listing_reads_the_current_item(moto_table):
    described = aws.client("dynamodb").describe_table(TableName=moto_table.name)["Table"]
    (listing,) = [i for i in described["GlobalSecondaryIndexes"] if i["IndexName"] == "GSI3"]
    assert listing["Projection"]["ProjectionType"] == "KEYS_ONLY"
    project = f"prj_{uuid.uuid4()}"
    post = _post(project)
    moto_table.put(items.to_item(post))
    _publish(moto_table, post)
    entries, _ = moto_table.query("GSI3", "GSI3PK", keys.project_posts(project))
    assert entries == [{**keys.scheduled_post(post.id), "GSI3PK": keys.project_posts(project),
                        "GSI3SK": f"{post.scheduledFor}#{post.id}"}]
    assert _listing(moto_table, project) == [(post.id, "published")]
    assert _listing(moto_table, project, ("published",)) == [(post.id, "published")]
    assert _listing(moto_table, project, ("queued",)) == []


# -- items that change between the index Query and the item reads ---------------------------


class _Racing(MemoryTable):
    """Runs `before_read` once, just before the listing's first BatchGetItem."""

    def __init__(self, before_read) -> None:
        super().__init__()
        self.before_read = before_read

    def batch_get(self, keys, attributes=None):
        hook, self.before_read = self.before_read, None
        if hook is not None:
            hook(self)
        return super().batch_get(keys, attributes)


def test_an_item_deleted_after_the_query_is_skipped_and_the_page_still_fills():
    project = f"prj_{uuid.uuid4()}"
    made = [_post(project, s) for s in (4, 3, 2, 1)]  # newest first
    table = _Racing(lambda t: t.delete(keys.scheduled_post(made[1].id)))
    for p in made:
        table.put(items.to_item(p))
    page = DynamoPosts(table).list_for_project(PostListQuery(project, (), None, None, None, None, 2, None))
    assert [p.id for p in page.posts] == [made[0].id, made[2].id]
    assert page.resume_after == f"{made[2].scheduledFor}#{made[2].id}"


def test_a_matched_post_that_stops_matching_before_its_page_is_read_is_left_out():
    project = f"prj_{uuid.uuid4()}"
    made = [_post(project, s, status="failed") for s in (3, 2, 1)]
    table = MemoryTable()
    for p in made:
        table.put(items.to_item(p))
    real = table.batch_get

    def batch_get(wanted, attributes=None):
        wanted = list(wanted)
        if attributes is None:  # the page's whole items: one of them was retried meanwhile
            table.update(keys.scheduled_post(made[0].id), "SET #s = :q", names={"#s": "status"},
                         values={":q": "queued"})
        return real(wanted, attributes)

    table.batch_get = batch_get  # type: ignore[method-assign]
    page = DynamoPosts(table).list_for_project(PostListQuery(project, ("failed",), None, None, None, None, 2, None))
    assert [p.id for p in page.posts] == [made[1].id]  # one shorter ...
    assert page.resume_after == f"{made[1].scheduledFor}#{made[1].id}"  # ... the cursor where the scan stopped


@pytest.mark.parametrize("limit", [1, 24, 25, 100])
def test_a_sparse_filter_stays_within_the_call_budget_and_finds_every_match(limit):
    project = f"prj_{uuid.uuid4()}"
    meter = TableMeter(wcu_limit=1e12, rcu_limit=1e12)
    table = MemoryTable(observer=meter)
    total = 2 * post_store.LIST_KEY_BUDGET + 150
    made = []
    for i in range(total):  # newest first; the two oldest are the only failed ones
        post = _post(project, status="failed" if i >= total - 2 else "queued").model_copy(
            update={"scheduledFor": f"2026-06-01T{10 - i // 3600:02d}:{59 - i // 60 % 60:02d}:{59 - i % 60:02d}.000Z"})
        made.append(post)
        table.put(items.to_item(post))
    found, after, requests = [], None, 0
    while True:
        calls = dict(meter.calls)
        page = DynamoPosts(table).list_for_project(PostListQuery(project, ("failed",), None, None, None, None,
                                                                 limit, after))
        requests += 1
        assert meter.calls["Query"] - calls.get("Query", 0) <= post_store.LIST_QUERY_CALLS
        assert meter.calls["BatchGetItem"] - calls.get("BatchGetItem", 0) <= post_store.LIST_BATCH_GETS
        found += [p.id for p in page.posts]
        after = page.resume_after
        if after is None:
            break
    assert found == [p.id for p in made[-2:]]
    assert requests >= total // post_store.LIST_KEY_BUDGET  # cut scans, resumed


# -- posts stored before GSI3 existed (tools/backfill_post_listing.py) ----------------------


def _legacy(table, post: ScheduledPost) -> None:
    """A post as stored before docs/adr/0043: the listing's keys on GSI1."""
    item = items.to_item(post)
    item["GSI1PK"], item["GSI1SK"] = item.pop("GSI3PK"), item.pop("GSI3SK")
    table.put(item)


def test_the_backfill_lists_old_posts_in_place_and_takes_them_off_gsi1(moto_table):
    from layers_shared.domain.ports import ChangeEvents
    from tools import backfill_post_listing

    project = f"prj_{uuid.uuid4()}"
    old, rescheduled, new = _post(project, 3), _post(project, 2), _post(project, 1)
    _legacy(moto_table, old)
    _legacy(moto_table, rescheduled)
    moto_table.put(items.to_item(new))
    assert _listing(moto_table, project) == [(new.id, "queued")]  # what a deploy without the backfill shows
    # Rescheduled by the new code before the backfill ran: on GSI3 already, a stale GSI1SK left behind.
    DynamoPosts(moto_table).reschedule(rescheduled, "2026-06-01T12:09:00.000Z", DUE,
                                       ChangeEvents(f"{rescheduled.id}#r", rescheduled.organizationId, [], NOW))

    counts = backfill_post_listing.backfill(moto_table)
    assert counts["moved"] >= 1 and counts["unlisted"] >= 1  # the package's table holds other tests' posts too
    assert [i for i, _ in _listing(moto_table, project)] == [rescheduled.id, old.id, new.id]
    for p in (old, rescheduled, new):
        stored = moto_table.get(keys.scheduled_post(p.id), consistent=True)
        assert "GSI1PK" not in stored and "GSI1SK" not in stored
    assert stored["GSI3SK"] == f"{new.scheduledFor}#{new.id}"
    assert backfill_post_listing.backfill(moto_table) == {"moved": 0, "unlisted": 0, "gone": 0}  # once is enough
