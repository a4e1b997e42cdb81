"""GET /v1/projects/{projectId}/scheduled-posts over HTTP against the local stack.

Every post of this module lies in windows days ahead, so the filters and the
from/to windows below see exactly the posts the fixture created."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from tests.support import (
    IMAGE, INSTAGRAM, OTHER_ORG_KEY, READ_KEY, TIKTOK, VIDEO, WRITE_KEY, assert_envelope, force_post_status, prj,
    schedule_posts,
)

PROJECT = prj(1)
LIST = f"/v1/projects/{PROJECT}/scheduled-posts"


def _wire(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Post:
    id: str
    when: datetime
    account: str
    container: str
    status: str = "queued"


@pytest.fixture(scope="module")
def world(api, stack):
    """Nine posts: seven single ones ten minutes apart, then two sharing one time."""
    base = (datetime.now(timezone.utc) + timedelta(days=2)).replace(second=0, microsecond=0)
    posts: list[Post] = []
    for i in range(7):
        when = base + timedelta(minutes=10 * i)
        account = TIKTOK if i % 2 == 0 else INSTAGRAM
        container = VIDEO if i % 3 else IMAGE
        [post_id] = schedule_posts(api, [{"socialAccountId": account, "mode": "publish"}],
                                   container=container, when=_wire(when))
        posts.append(Post(post_id, when, account, container))
    tie = base + timedelta(minutes=100)
    pair = schedule_posts(api, [{"socialAccountId": TIKTOK, "mode": "publish"},
                                {"socialAccountId": INSTAGRAM, "mode": "publish"}], when=_wire(tie))
    posts += [Post(pair[0], tie, TIKTOK, VIDEO), Post(pair[1], tie, INSTAGRAM, VIDEO)]
    force_post_status(stack, posts[1].id, "failed", lastError={"code": "PLATFORM_REJECTED", "message": "no"})
    posts[1].status = "failed"
    force_post_status(stack, posts[5].id, "published", externalId="123")
    posts[5].status = "published"
    assert api.delete(f"/v1/scheduled-posts/{posts[3].id}").status == 200
    posts[3].status = "canceled"
    return base, posts


def _window(base: datetime) -> dict[str, str]:
    return {"from": _wire(base), "to": _wire(base + timedelta(days=1))}


def _newest_first(posts: list[Post]) -> list[str]:
    return [p.id for p in sorted(posts, key=lambda p: (p.when, p.id), reverse=True)]


def _pages(api, params: list[tuple[str, str]], key=True) -> list[dict]:
    """Every page of a listing, following nextCursor."""
    pages, cursor = [], None
    while True:
        query = params + ([("cursor", cursor)] if cursor else [])
        reply = api.get(f"{LIST}?{urlencode(query)}", key=key)
        assert reply.status == 200, reply.body
        pages.append(reply.body)
        cursor = reply.body["nextCursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "pagination does not end"


def test_all_posts_newest_first_in_the_shape_of_get(api, world):
    base, posts = world
    reply = api.get(f"{LIST}?{urlencode(_window(base))}")
    assert reply.status == 200, reply.body
    assert reply.body["nextCursor"] is None
    assert [item["id"] for item in reply.body["items"]] == _newest_first(posts)
    for item in reply.body["items"]:
        assert item == api.get(f"/v1/scheduled-posts/{item['id']}").body


def test_pages_of_three_cover_everything_once(api, world):
    base, posts = world
    pages = _pages(api, [*_window(base).items(), ("limit", "3")])
    assert [len(p["items"]) for p in pages] == [3, 3, 3]
    assert [i["id"] for p in pages for i in p["items"]] == _newest_first(posts)


def test_filters_apply_across_pages(api, world):
    base, posts = world
    params = [*_window(base).items(), ("socialAccountId", TIKTOK), ("status", "queued"), ("status", "failed"),
              ("limit", "2")]
    pages = _pages(api, params)
    expected = _newest_first([p for p in posts if p.account == TIKTOK and p.status in ("queued", "failed")])
    assert len(expected) >= 3
    assert [i["id"] for p in pages for i in p["items"]] == expected
    assert all(len(p["items"]) == 2 for p in pages[:-1])


def test_status_accepts_repeats_and_commas(api, world):
    base, posts = world
    repeated = _pages(api, [*_window(base).items(), ("status", "canceled"), ("status", "published")])
    commas = _pages(api, [*_window(base).items(), ("status", "canceled,published")])
    expected = _newest_first([p for p in posts if p.status in ("canceled", "published")])
    assert [i["id"] for i in repeated[0]["items"]] == expected == [i["id"] for i in commas[0]["items"]]
    assert {i["status"] for i in repeated[0]["items"]} == {"canceled", "published"}


def test_container_filter_takes_a_bare_uuid_too(api, world):
    base, posts = world
    expected = _newest_first([p for p in posts if p.container == IMAGE])
    for value in (IMAGE, IMAGE.removeprefix("cnt_")):
        pages = _pages(api, [*_window(base).items(), ("containerId", value), ("limit", "1")])
        assert [i["id"] for p in pages for i in p["items"]] == expected


def test_from_is_inclusive_and_to_exclusive(api, world):
    _base, posts = world
    start, end = posts[2].when, posts[5].when
    reply = api.get(f"{LIST}?{urlencode({'from': _wire(start), 'to': _wire(end)})}")
    assert [i["id"] for i in reply.body["items"]] == _newest_first(posts[2:5])
    # The same instants with another offset select the same posts.
    plus_two = timezone(timedelta(hours=2))
    shifted = {"from": start.astimezone(plus_two).isoformat(), "to": end.astimezone(plus_two).isoformat()}
    assert api.get(f"{LIST}?{urlencode(shifted)}").body["items"] == reply.body["items"]
    # One millisecond either side moves the edges.
    nudged = {"from": (start + timedelta(milliseconds=1)).isoformat(),
              "to": (end + timedelta(milliseconds=1)).isoformat()}
    assert [i["id"] for i in api.get(f"{LIST}?{urlencode(nudged)}").body["items"]] == _newest_first(posts[3:6])


def test_only_from_and_only_to(api, world):
    base, posts = world
    late = api.get(f"{LIST}?{urlencode({'from': _wire(posts[6].when), 'to': _window(base)['to']})}").body["items"]
    assert [i["id"] for i in late] == _newest_first(posts[6:])
    early = api.get(f"{LIST}?{urlencode({'from': _wire(base), 'to': _wire(posts[1].when)})}").body["items"]
    assert [i["id"] for i in early] == [posts[0].id]
    before_all = api.get(f"{LIST}?{urlencode({'to': _wire(base)})}").body["items"]
    assert not {i["id"] for i in before_all} & {p.id for p in posts}


def test_an_empty_or_inverted_window_is_an_empty_page(api, world):
    base, _posts = world
    for params in ({"from": _wire(base), "to": _wire(base)},
                   {"from": _wire(base + timedelta(hours=1)), "to": _wire(base)}):
        reply = api.get(f"{LIST}?{urlencode(params)}")
        assert reply.status == 200 and reply.body == {"items": [], "nextCursor": None}


def test_default_limit_is_50(api, stack):
    window = (datetime.now(timezone.utc) + timedelta(days=20)).replace(second=0, microsecond=0)
    made = []
    for i in range(52):
        made += schedule_posts(api, [{"socialAccountId": TIKTOK, "mode": "publish"}],
                               when=_wire(window + timedelta(seconds=i)))
    params = {"from": _wire(window), "to": _wire(window + timedelta(hours=1))}
    first = api.get(f"{LIST}?{urlencode(params)}").body
    assert len(first["items"]) == 50 and first["nextCursor"]
    second = api.get(f"{LIST}?{urlencode({**params, 'cursor': first['nextCursor']})}").body
    assert len(second["items"]) == 2 and second["nextCursor"] is None
    assert {i["id"] for i in first["items"] + second["items"]} == set(made)
    hundred = api.get(f"{LIST}?{urlencode({**params, 'limit': '100'})}").body
    assert len(hundred["items"]) == 52 and hundred["nextCursor"] is None


@pytest.mark.parametrize("query,path", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"), ("limit=1.5", "limit"),
    ("limit=-1", "limit"), ("limit=", "limit"), ("status=sent", "status"), ("status=", "status"),
    ("from=2030-01-01T00:00:00", "from"), ("to=yesterday", "to"), ("socialAccountId=nope", "socialAccountId"),
    ("containerId=sa_55555555-5555-4555-8555-000000000001", "containerId"),
    ("cursor=garbage!", "cursor"), ("cursor=eyJ2IjoxfQ", "cursor"),
])
def test_bad_query_parameters_are_422(api, query, path):
    details = assert_envelope(api.get(f"{LIST}?{query}"), 422, "VALIDATION")
    assert details["issues"][0]["path"] == path


def test_all_query_issues_are_reported_at_once(api):
    details = assert_envelope(api.get(f"{LIST}?limit=0&status=bogus&from=x"), 422, "VALIDATION")
    assert {i["path"] for i in details["issues"]} == {"limit", "status", "from"}


def test_unknown_query_parameters_are_ignored(api, world):
    base, posts = world
    reply = api.get(f"{LIST}?{urlencode({**_window(base), 'sort': 'asc', 'page': '2'})}")
    assert reply.status == 200 and len(reply.body["items"]) == len(posts)


def test_tampered_or_foreign_cursors_are_422(api, world):
    base, _posts = world
    window = _window(base)
    cursor = api.get(f"{LIST}?{urlencode({**window, 'limit': '2'})}").body["nextCursor"]
    assert cursor
    flipped = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    for bad in (flipped, cursor[:-1], cursor + "A", cursor + "=="):
        details = assert_envelope(api.get(f"{LIST}?{urlencode({**window, 'cursor': bad})}"), 422, "VALIDATION")
        assert details["issues"][0]["path"] == "cursor"
    # A cursor belongs to its filters and its project.
    other_filters = {**window, "status": "queued", "cursor": cursor}
    assert_envelope(api.get(f"{LIST}?{urlencode(other_filters)}"), 422, "VALIDATION")
    other_project = f"/v1/projects/{prj(2)}/scheduled-posts?{urlencode({**window, 'cursor': cursor})}"
    assert_envelope(api.get(other_project), 422, "VALIDATION")
    # A different page size is fine.
    assert api.get(f"{LIST}?{urlencode({**window, 'limit': '5', 'cursor': cursor})}").status == 200


def test_tenancy_and_unknown_projects_are_404(api):
    assert_envelope(api.get(LIST, key=OTHER_ORG_KEY), 404, "NOT_FOUND")
    assert_envelope(api.get(f"/v1/projects/{prj(9)}/scheduled-posts"), 404, "NOT_FOUND")
    assert_envelope(api.get("/v1/projects/prj_nope/scheduled-posts"), 404, "NOT_FOUND")
    assert_envelope(api.get(f"/v1/projects/{prj(42)}/scheduled-posts"), 404, "NOT_FOUND")


def test_bare_uuid_project_and_an_empty_project(api):
    bare = api.get(f"/v1/projects/{PROJECT.removeprefix('prj_')}/scheduled-posts?limit=1")
    assert bare.status == 200 and len(bare.body["items"]) == 1
    gated = api.get(f"/v1/projects/{prj(2)}/scheduled-posts")
    assert gated.status == 200 and gated.body == {"items": [], "nextCursor": None}


def test_auth_and_scope(api):
    assert_envelope(api.get(LIST, key=None), 401, "UNAUTHENTICATED")
    details = assert_envelope(api.get(LIST, key=WRITE_KEY), 403, "FORBIDDEN_SCOPE")
    assert details["requiredScope"] == "publish:read"
    assert api.get(LIST, key=READ_KEY).status == 200
