"""The `Posts` port: the DynamoDB adapter and the in-memory fake answer alike.

Every test runs twice (conftest.py `world`): on a moto table built from
template.yaml and on tests/fakes/store.py."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from layers_shared import clock, idempotency
from layers_shared.domain.errors import IdempotencyInProgress
from layers_shared.domain.ports import ChangeEvents, IdsTaken, PostListQuery, Remember, StaleWrite, position_of
from layers_shared.models.entities import Media, ScheduledPost

ORG = "org_11111111-1111-4111-8111-111111111111"
SA_1 = "sa_22222222-2222-4222-8222-000000000001"
SA_2 = "sa_22222222-2222-4222-8222-000000000002"
CNT_1 = "cnt_66666666-6666-4666-8666-000000000001"
CNT_2 = "cnt_66666666-6666-4666-8666-000000000002"


def post(project_id: str, minute: int, *, status: str = "queued", account: str = SA_1, container: str = CNT_1,
         **extra) -> ScheduledPost:
    return ScheduledPost(
        id=f"sp_{uuid.uuid4()}", organizationId=ORG, projectId=project_id, containerId=container,
        socialAccountId=account, platform="tiktok", handle="@pour", mode="publish", env="test", status=status,
        scheduledFor=f"2026-06-01T12:{minute:02d}:00.000Z", mediaType="video",
        media=[Media(url="https://media.example.com/pour.mp4", kind="video")],
        createdAt="2026-05-01T00:00:00.000Z", updatedAt="2026-05-01T00:00:00.000Z", **extra)


def query(project_id: str, *, limit: int = 50, after: str | None = None, statuses: tuple[str, ...] = (),
          account: str | None = None, container: str | None = None, start: str | None = None,
          end: str | None = None) -> PostListQuery:
    return PostListQuery(project_id, statuses, account, container, start, end, limit, after)


def ids(page) -> list[str]:
    return [p.id for p in page.posts]


def test_a_missing_post_is_none(world):
    assert world.ports["posts"].get(f"sp_{uuid.uuid4()}") is None
    assert world.ports["posts"].get(f"sp_{uuid.uuid4()}", consistent=True) is None


def test_a_stored_post_reads_back_whole(world, project_id):
    stored = post(project_id, 1, caption="Morning pour", tiktokMusic={"mode": "auto"}, attempts=2)
    world.seed(stored)
    assert world.ports["posts"].get(stored.id) == stored
    assert world.ports["posts"].get(stored.id, consistent=True) == stored


def test_a_read_post_is_a_copy(world, project_id):
    stored = post(project_id, 1)
    world.seed(stored)
    world.ports["posts"].get(stored.id).media.clear()
    assert world.ports["posts"].get(stored.id).media == stored.media


def test_listing_is_newest_first_and_pages_resume_where_they_stopped(world, project_id):
    made = [post(project_id, m) for m in (5, 1, 9, 3, 7)]
    for p in made:
        world.seed(p)
    world.seed(post(f"prj_{uuid.uuid4()}", 4))  # another project's post is never listed
    newest_first = [p.id for p in sorted(made, key=lambda p: p.scheduledFor, reverse=True)]
    posts = world.ports["posts"]
    first = posts.list_for_project(query(project_id, limit=2))
    assert ids(first) == newest_first[:2] and first.resume_after == position_of(first.posts[-1])
    second = posts.list_for_project(query(project_id, limit=2, after=first.resume_after))
    assert ids(second) == newest_first[2:4]
    last = posts.list_for_project(query(project_id, limit=2, after=second.resume_after))
    assert ids(last) == newest_first[4:] and last.resume_after is None


def test_a_page_that_ends_the_listing_says_so(world, project_id):
    for m in (1, 2):
        world.seed(post(project_id, m))
    assert world.ports["posts"].list_for_project(query(project_id, limit=2)).resume_after is None
    assert world.ports["posts"].list_for_project(query(f"prj_{uuid.uuid4()}")).posts == []


def test_filters_all_hold(world, project_id):
    wanted = post(project_id, 1, status="failed", account=SA_2, container=CNT_2)
    for p in (wanted, post(project_id, 2, status="failed", account=SA_2),
              post(project_id, 3, status="failed", container=CNT_2), post(project_id, 4, account=SA_2,
                                                                          container=CNT_2)):
        world.seed(p)
    posts = world.ports["posts"]
    found = posts.list_for_project(query(project_id, statuses=("failed", "canceled"), account=SA_2,
                                         container=CNT_2))
    assert ids(found) == [wanted.id] and found.resume_after is None
    assert len(posts.list_for_project(query(project_id, statuses=("failed",))).posts) == 3
    assert len(posts.list_for_project(query(project_id, account=SA_2)).posts) == 3


def test_a_status_change_neither_reorders_nor_drops_a_post(world, project_id):
    """The listing's order is its index's (keys only, docs/adr/0043): what a post
    becomes while it publishes is read from the post, its place does not move."""
    made = [post(project_id, m) for m in (4, 3, 2, 1)]
    for p in made:
        world.seed(p)
    posts = world.ports["posts"]
    before = ids(posts.list_for_project(query(project_id)))
    posts.cancel(made[1], STAMP, None, events(f"{made[1].id}#c"))
    world.seed(made[2].model_copy(update={"status": "published", "externalId": "730001"}))
    listed = posts.list_for_project(query(project_id))
    assert ids(listed) == before == [p.id for p in made]
    assert [p.status for p in listed.posts] == ["queued", "canceled", "published", "queued"]
    assert ids(posts.list_for_project(query(project_id, statuses=("canceled", "published")))) == \
        [made[1].id, made[2].id]


def _walk(posts, q: PostListQuery) -> tuple[list[str], list]:
    """Every post of a listing, following resume_after until None, and its pages."""
    found, pages = [], []
    while True:
        page = posts.list_for_project(q)
        pages.append(page)
        found += ids(page)
        if page.resume_after is None:
            return found, pages
        assert len(pages) < 50, "pagination does not end"
        q = PostListQuery(q.project_id, q.statuses, q.social_account_id, q.container_id, q.start, q.end, q.limit,
                          page.resume_after)


def test_filters_hold_across_a_cut_scan(world, project_id, monkeypatch):
    """A scan cut by its budget resumes where it stopped; every match is found once, in order."""
    from layers_shared.store import posts as post_store

    # A budget of 6 keys in BatchGetItem calls of 2, so a dozen posts take several requests.
    monkeypatch.setattr(post_store, "LIST_KEY_BUDGET", 6)
    monkeypatch.setattr(post_store, "BATCH_GET_KEYS", 2)
    monkeypatch.setattr(post_store, "_FIRST_FILTERED_READ", 2)
    wanted = {m: post(project_id, m, status="failed", account=SA_2, container=CNT_2) for m in (20, 10, 1)}
    near = {19: post(project_id, 19, status="failed", account=SA_2),  # each misses one filter
            12: post(project_id, 12, account=SA_2, container=CNT_2),
            5: post(project_id, 5, status="failed", container=CNT_2)}
    for m in range(1, 21):
        world.seed(wanted.get(m) or near.get(m) or post(project_id, m, status="canceled"))
    for limit in (1, 2):
        found, pages = _walk(world.ports["posts"], query(project_id, limit=limit, statuses=("failed",),
                                                         account=SA_2, container=CNT_2))
        assert found == [wanted[m].id for m in (20, 10, 1)]
        if world.side == "dynamodb":  # the budget did cut: a page short of its limit that still goes on
            assert any(len(p.posts) < limit and p.resume_after is not None for p in pages)


@pytest.mark.parametrize("start,end,minutes", [
    ("2026-06-01T12:02:00.000Z", None, [4, 3, 2]),          # from is inclusive
    (None, "2026-06-01T12:03:00.000Z", [2, 1]),             # to is exclusive
    ("2026-06-01T12:02:00.000Z", "2026-06-01T12:04:00.000Z", [3, 2]),
    ("2026-06-01T12:03:00.000Z", "2026-06-01T12:03:00.000Z", []),  # an empty window
    ("2026-06-01T12:04:00.000Z", "2026-06-01T12:02:00.000Z", []),  # a reversed one
])
def test_time_window(world, project_id, start, end, minutes):
    made = {m: post(project_id, m) for m in (1, 2, 3, 4)}
    for p in made.values():
        world.seed(p)
    found = world.ports["posts"].list_for_project(query(project_id, start=start, end=end))
    assert ids(found) == [made[m].id for m in minutes]


# -- steering: conditional on `queued`, all or nothing with its events and its Idempotency-Key --

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=timezone.utc)
STAMP = "2026-05-20T09:00:00.000Z"


def events(change: str) -> ChangeEvents:
    return ChangeEvents(change, ORG, [{"id": f"evt_{uuid.uuid4()}", "type": "post.canceled", "data": {}}], NOW)


def test_reschedule_moves_a_queued_post_in_its_listing(world, project_id):
    early, late = post(project_id, 1), post(project_id, 5)
    for p in (early, late):
        world.seed(p)
    reservation = world.reservation()
    world.ports["posts"].reschedule(early, "2026-06-01T12:09:00.000Z", STAMP, events(f"{early.id}#r"),
                                    Remember(reservation, idempotency.StoredResponse(200, {"ok": 1}, {})))
    moved = world.ports["posts"].get(early.id, consistent=True)
    assert (moved.scheduledFor, moved.updatedAt, moved.status) == ("2026-06-01T12:09:00.000Z", STAMP, "queued")
    assert ids(world.ports["posts"].list_for_project(query(project_id))) == [early.id, late.id]
    assert world.raised(f"{early.id}#r") and reservation.completed


@pytest.mark.parametrize("reason", [None, "wrong caption"])
def test_cancel_cancels_a_queued_post(world, project_id, reason):
    queued = post(project_id, 1)
    world.seed(queued)
    world.ports["posts"].cancel(queued, STAMP, reason, events(f"{queued.id}#canceled"))
    canceled = world.ports["posts"].get(queued.id, consistent=True)
    assert (canceled.status, canceled.canceledAt, canceled.updatedAt, canceled.cancelReason) == \
        ("canceled", STAMP, STAMP, reason)
    assert world.raised(f"{queued.id}#canceled")


@pytest.mark.parametrize("status", ["publishing", "published", "canceled", "missing"])
def test_a_post_that_is_not_queued_is_left_alone_and_nothing_else_is_written(world, project_id, status):
    stored = post(project_id, 1, status="queued" if status == "missing" else status)
    if status != "missing":
        world.seed(stored)
    reservation = world.reservation()
    remember = Remember(reservation, idempotency.StoredResponse(200, {}, {}))
    with pytest.raises(StaleWrite):
        world.ports["posts"].cancel(stored, STAMP, None, events(f"{stored.id}#c"), remember)
    with pytest.raises(StaleWrite):
        world.ports["posts"].reschedule(stored, "2026-06-01T12:09:00.000Z", STAMP, events(f"{stored.id}#r"),
                                        remember)
    assert world.ports["posts"].get(stored.id, consistent=True) == (None if status == "missing" else stored)
    assert not world.raised(f"{stored.id}#c") and not world.raised(f"{stored.id}#r")
    assert not reservation.completed


def test_a_change_whose_events_were_already_raised_writes_nothing(world, project_id):
    queued = post(project_id, 1)
    world.seed(queued)
    world.ports["posts"].reschedule(queued, "2026-06-01T12:09:00.000Z", STAMP, events(f"{queued.id}#same"))
    again = world.ports["posts"].get(queued.id, consistent=True)
    with pytest.raises(StaleWrite):  # the same change a second time: the whole write is canceled
        world.ports["posts"].cancel(again, "2026-05-20T09:01:00.000Z", "x", events(f"{queued.id}#same"))
    assert world.ports["posts"].get(queued.id, consistent=True) == again


def test_the_remembered_answer_is_replayed_and_a_lost_key_writes_nothing(world, project_id):
    first, second = post(project_id, 1), post(project_id, 2)
    for p in (first, second):
        world.seed(p)
    records, scope = world.ports["idempotency"], f"contract#{uuid.uuid4()}"
    answer = idempotency.StoredResponse(200, {"id": first.id, "status": "canceled"}, {})
    world.ports["posts"].cancel(first, STAMP, None, events(f"{first.id}#c"),
                                Remember(records.reserve(scope, "fp"), answer))
    assert records.reserve(scope, "fp") == answer

    other_scope = f"contract#{uuid.uuid4()}"
    lost = records.reserve(other_scope, "fp")
    clock.set_now(clock.now() + timedelta(seconds=idempotency.LEASE_SECONDS + 1))
    try:
        records.reserve(other_scope, "fp")  # a retry took the key over: the first holder's write must not land
        with pytest.raises(IdempotencyInProgress):
            world.ports["posts"].cancel(second, STAMP, None, events(f"{second.id}#c"), Remember(lost, answer))
    finally:
        clock.set_now(None)
    assert world.ports["posts"].get(second.id, consistent=True) == second and not world.raised(f"{second.id}#c")


# -- creating posts: every row new, all or nothing with its events and its key --


def test_create_writes_every_post_its_events_and_the_answer(world, project_id):
    made = [post(project_id, m) for m in (1, 2)]
    reservation = world.reservation()
    world.ports["posts"].create(made, events(f"{made[0].id}#scheduled"),
                                Remember(reservation, idempotency.StoredResponse(200, {}, {})))
    assert [world.ports["posts"].get(p.id, consistent=True) for p in made] == made
    assert world.ports["posts"].taken([made[1].id, f"sp_{uuid.uuid4()}"]) == {made[1].id}
    assert world.raised(f"{made[0].id}#scheduled") and reservation.completed


def test_create_with_a_taken_id_names_it_and_writes_nothing(world, project_id):
    existing = post(project_id, 1)
    world.seed(existing)
    fresh = post(project_id, 2)
    clash = post(project_id, 3).model_copy(update={"id": existing.id})
    reservation = world.reservation()
    with pytest.raises(IdsTaken) as refused:
        world.ports["posts"].create([fresh, clash], events(f"{fresh.id}#scheduled"),
                                    Remember(reservation, idempotency.StoredResponse(200, {}, {})))
    assert refused.value.ids == [existing.id]
    assert world.ports["posts"].get(fresh.id, consistent=True) is None
    assert world.ports["posts"].get(existing.id, consistent=True) == existing
    assert not world.raised(f"{fresh.id}#scheduled") and not reservation.completed
