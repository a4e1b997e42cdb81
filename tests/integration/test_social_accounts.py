"""GET /v1/projects/{projectId}/social-accounts over HTTP: filters, cursor
pages, tenancy, and publish readiness per mode with its reason."""
from __future__ import annotations

import pytest

from tests.support import (
    FOREIGN, GATED_ACCOUNT, IG_CREATOR, IG_PERSONAL, INSTAGRAM, NO_PROVIDER, OTHER_ORG_KEY, READ_KEY, REAUTH,
    REJECTS, TIKTOK, UNKNOWN, UPLOAD_ONLY, FLAKY, WRITE_KEY, PRIVATE_TIKTOK, assert_envelope, prj,
)

PROJECT = prj(1)
PROJECT_ACCOUNTS = {TIKTOK, INSTAGRAM, IG_PERSONAL, REAUTH, UPLOAD_ONLY, REJECTS, FLAKY, UNKNOWN, NO_PROVIDER,
                    IG_CREATOR, PRIVATE_TIKTOK}
URL = f"/v1/projects/{PROJECT}/social-accounts"


def by_id(reply) -> dict[str, dict]:
    return {item["socialAccountId"]: item for item in reply.body["items"]}


def all_pages(api, query: str) -> list[dict]:
    items, cursor, pages = [], None, 0
    while True:
        reply = api.get(f"{URL}?{query}" + (f"&cursor={cursor}" if cursor else ""), key=READ_KEY)
        assert reply.status == 200, reply.body
        items += reply.body["items"]
        pages += 1
        cursor = reply.body["nextCursor"]
        if cursor is None:
            return items
        assert pages < 20


def test_lists_every_account_of_the_project_in_the_documented_shape(api):
    reply = api.get(URL, key=READ_KEY)
    assert reply.status == 200, reply.body
    assert reply.body["nextCursor"] is None
    items = by_id(reply)
    assert set(items) == PROJECT_ACCOUNTS  # not the gated project's, not another org's
    tiktok = items[TIKTOK]
    assert set(tiktok) == {"socialAccountId", "platform", "handle", "avatarUrl", "status", "leased", "connectedAt",
                           "tokenExpiresAt", "instagramAccountType", "publishReadiness"}
    assert tiktok["platform"] == "tiktok" and tiktok["handle"] == "acmecoffee" and tiktok["leased"] is False
    assert tiktok["status"] == "connected" and tiktok["connectedAt"].endswith("Z")
    assert items[INSTAGRAM]["instagramAccountType"] == "business"
    assert items[IG_PERSONAL]["instagramAccountType"] == "personal"


def test_publish_readiness_says_why_per_mode(api):
    items = by_id(api.get(URL, key=READ_KEY))

    def readiness(account: str) -> dict[str, tuple[bool, str | None]]:
        return {mode: (r["ready"], r["reason"]) for mode, r in items[account]["publishReadiness"].items()}

    assert readiness(TIKTOK) == {"publish": (True, None), "draft": (True, None), "managed": (True, None)}
    assert readiness(REAUTH) == {m: (False, "status:reauth_required") for m in ("publish", "draft", "managed")}
    assert readiness(UPLOAD_ONLY) == {"publish": (False, "missing_scope:video.publish"), "draft": (True, None),
                                      "managed": (False, "no_managed_layer")}
    assert readiness(NO_PROVIDER)["managed"] == (False, "no_provider")
    assert readiness(NO_PROVIDER)["publish"] == (True, None)
    # An Instagram Personal account passes here and fails at publish time (decisions.md).
    assert readiness(IG_PERSONAL)["publish"] == (True, None)
    assert readiness(INSTAGRAM)["draft"] == (True, None)


def test_readiness_agrees_with_what_schedule_answers(api):
    """The list is the partner's preview of the 422: the same rule decides."""
    reply = api.schedule("cnt_66666666-6666-4666-8666-000000000001",
                         [{"socialAccountId": UPLOAD_ONLY, "mode": "publish"}])
    details = assert_envelope(reply, 422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY")
    listed = by_id(api.get(URL, key=READ_KEY))[UPLOAD_ONLY]["publishReadiness"]["publish"]
    assert listed == {"ready": False, "reason": details["reason"]}


@pytest.mark.parametrize("query,expected", [
    ("platform=instagram", {INSTAGRAM, IG_PERSONAL, IG_CREATOR}),
    ("status=reauth_required", {REAUTH}),
    ("status=disconnected", set()),
    ("platform=tiktok&status=connected", {TIKTOK, UPLOAD_ONLY, REJECTS, FLAKY, UNKNOWN, NO_PROVIDER, PRIVATE_TIKTOK}),
    ("status=reauth_required&status=connected&platform=instagram", {INSTAGRAM, IG_PERSONAL, IG_CREATOR}),
    ("platform=instagram,tiktok&status=reauth_required", {REAUTH}),
])
def test_filters(api, query, expected):
    reply = api.get(f"{URL}?{query}", key=READ_KEY)
    assert reply.status == 200, reply.body
    assert set(by_id(reply)) == expected


@pytest.mark.parametrize("limit", [1, 3, 4, 10])
def test_cursor_pages_cover_everything_once(api, limit):
    items = all_pages(api, f"limit={limit}")
    ids = [i["socialAccountId"] for i in items]
    assert len(ids) == len(set(ids)) == len(PROJECT_ACCOUNTS)
    assert set(ids) == PROJECT_ACCOUNTS
    assert ids == [i["socialAccountId"] for i in api.get(URL, key=READ_KEY).body["items"]]  # same order


def test_page_size_and_next_cursor(api):
    first = api.get(f"{URL}?limit=4", key=READ_KEY)
    assert len(first.body["items"]) == 4 and isinstance(first.body["nextCursor"], str)
    exact = api.get(f"{URL}?limit={len(PROJECT_ACCOUNTS)}", key=READ_KEY)
    assert len(exact.body["items"]) == len(PROJECT_ACCOUNTS) and exact.body["nextCursor"] is None


def test_filtered_pages(api):
    items = all_pages(api, "platform=instagram&limit=1")
    assert [i["platform"] for i in items] == ["instagram"] * 3


@pytest.mark.parametrize("query,path", [
    ("platform=youtube", "platform"),
    ("status=banned", "status"),
    ("limit=0", "limit"),
    ("limit=201", "limit"),
    ("limit=ten", "limit"),
    ("limit=-1", "limit"),
    ("cursor=not-a-cursor", "cursor"),
    ("cursor=", "cursor"),
])
def test_bad_query_is_422(api, query, path):
    details = assert_envelope(api.get(f"{URL}?{query}", key=READ_KEY), 422, "VALIDATION")
    assert details["issues"][0]["path"] == path


def test_all_query_issues_at_once(api):
    details = assert_envelope(api.get(f"{URL}?platform=x&status=y&limit=0", key=READ_KEY), 422, "VALIDATION")
    assert [i["path"] for i in details["issues"]] == ["platform", "status", "limit"]


def test_tampered_or_foreign_cursor_is_422(api):
    cursor = api.get(f"{URL}?limit=2", key=READ_KEY).body["nextCursor"]
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    assert_envelope(api.get(f"{URL}?limit=2&cursor={flipped}", key=READ_KEY), 422, "VALIDATION")
    # A cursor of one query is not a cursor of another (different filter).
    details = assert_envelope(api.get(f"{URL}?limit=2&platform=tiktok&cursor={cursor}", key=READ_KEY),
                              422, "VALIDATION")
    assert details["issues"][0]["path"] == "cursor"
    # Nor of another project.
    assert_envelope(api.get(f"/v1/projects/{prj(2)}/social-accounts?limit=2&cursor={cursor}", key=READ_KEY),
                    422, "VALIDATION")
    # The limit may change between pages.
    assert api.get(f"{URL}?limit=5&cursor={cursor}", key=READ_KEY).status == 200


def test_other_projects_and_tenancy(api):
    gated = api.get(f"/v1/projects/{prj(2)}/social-accounts", key=READ_KEY)
    assert [i["socialAccountId"] for i in gated.body["items"]] == [GATED_ACCOUNT]
    assert_envelope(api.get(f"/v1/projects/{prj(9)}/social-accounts", key=READ_KEY), 404, "NOT_FOUND")
    assert_envelope(api.get(URL, key=OTHER_ORG_KEY), 404, "NOT_FOUND")
    assert_envelope(api.get("/v1/projects/nope/social-accounts", key=READ_KEY), 404, "NOT_FOUND")
    bare = api.get(f"/v1/projects/{PROJECT.removeprefix('prj_')}/social-accounts", key=READ_KEY)
    assert bare.status == 200 and len(bare.body["items"]) == len(PROJECT_ACCOUNTS)
    theirs = api.get(f"/v1/projects/{prj(9)}/social-accounts", key=OTHER_ORG_KEY)
    assert [i["socialAccountId"] for i in theirs.body["items"]] == [FOREIGN]


def test_scope_social_read(api):
    assert assert_envelope(api.get(URL, key=WRITE_KEY), 403, "FORBIDDEN_SCOPE") == {"requiredScope": "social:read"}
    assert_envelope(api.get(URL, key=None), 401, "UNAUTHENTICATED")


def test_large_project_pages_at_the_maximum(api, stack):
    from layers_shared.models.entities import SocialAccount
    from layers_shared.store import items

    project = prj(3)
    from layers_shared.models.entities import Project
    stack.table.put(items.to_item(Project(id=project, organizationId="org_11111111-1111-4111-8111-111111111111")))
    for n in range(205):
        stack.table.put(items.to_item(SocialAccount(
            id=f"sa_aaaaaaaa-aaaa-4aaa-8aaa-{n:012d}", projectId=project,
            organizationId="org_11111111-1111-4111-8111-111111111111", platform="tiktok" if n % 2 else "instagram",
            handle=f"bulk{n}", connectedAt=f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000Z")))
    url = f"/v1/projects/{project}/social-accounts"
    first = api.get(url, key=READ_KEY)
    assert len(first.body["items"]) == 50  # default
    biggest = api.get(f"{url}?limit=200", key=READ_KEY)
    assert len(biggest.body["items"]) == 200 and biggest.body["nextCursor"]
    rest = api.get(f"{url}?limit=200&cursor={biggest.body['nextCursor']}", key=READ_KEY)
    assert len(rest.body["items"]) == 5 and rest.body["nextCursor"] is None
    stamps = [i["connectedAt"] for i in biggest.body["items"] + rest.body["items"]]
    assert stamps == sorted(stamps)  # oldest connection first
    tiktok = api.get(f"{url}?platform=tiktok&limit=200", key=READ_KEY)
    assert len(tiktok.body["items"]) == 102 and tiktok.body["nextCursor"] is None
