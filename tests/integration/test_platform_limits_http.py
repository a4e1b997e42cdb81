"""Platform limits, TikTok privacy levels and dry runs over HTTP against the
local stack (sandbox keys; decisions.md, "Platform limits, checked before
anything is written"). Every refusal is a 422 that leaves no row."""
from __future__ import annotations

import time
import uuid

import pytest

from layers_shared.models.entities import Container
from layers_shared.store import items, keys
from tests.support import (
    IMAGE, INSTAGRAM, PENDING, PRIVATE_TIKTOK, SLIDESHOW, TIKTOK, VIDEO, assert_envelope, cnt, future, prj,
    project_post_rows, sa,
)

PROJECT = prj(1)
ORG = "org_11111111-1111-4111-8111-111111111111"
EMOJI = "\U0001F600"


def container(stack, n: int, media_type: str, count: int, caption: str = "c", first_comment: str | None = None) -> str:
    """A completed container of the default project, written straight to the table."""
    kind = "video" if media_type == "video" else "image"
    media = [{"url": f"https://media.example.com/{n}/{i}.{'mp4' if kind == 'video' else 'jpg'}", "kind": kind}
             for i in range(count)]
    ident = cnt(n)
    stack.table.put(items.to_item(Container(id=ident, projectId=PROJECT, organizationId=ORG, status="completed",
                                            mediaType=media_type, caption=caption, firstComment=first_comment,
                                            media=media)))
    return ident


def rows(stack) -> int:
    """Every scheduled post of the default project."""
    return len(project_post_rows(stack.table, PROJECT))


def refused(api, stack, container_id: str, targets: list[dict], path: str = "schedule") -> list[tuple[str, str]]:
    before = rows(stack)
    body = {"targets": targets} if path == "publish" else {"scheduledFor": future(), "targets": targets}
    reply = api.post(f"/v1/content/{container_id}/{path}", body)
    details = assert_envelope(reply, 422, "VALIDATION")
    assert rows(stack) == before
    return [(i["path"], i["code"]) for i in details["issues"]]


# -- one rule at a time ------------------------------------------------------------------------

def test_tiktok_video_caption_over_2200_utf16_units(api, stack):
    caption = "a" * 2199 + EMOJI  # 2200 characters, 2201 UTF-16 units
    assert refused(api, stack, VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish", "captionOverride": caption}]) \
        == [("targets[0].captionOverride", "caption_too_long")]
    long_own = container(stack, 201, "video", 1, caption="x" * 2201)
    assert refused(api, stack, long_own, [{"socialAccountId": TIKTOK, "mode": "draft"}]) == [
        ("targets[0]", "caption_too_long")]


def test_tiktok_photo_description_over_4000_and_image_count(api, stack):
    assert refused(api, stack, SLIDESHOW, [{"socialAccountId": TIKTOK, "mode": "publish",
                                            "captionOverride": EMOJI * 2001}]) == [
        ("targets[0].captionOverride", "caption_too_long")]
    too_many = container(stack, 202, "slideshow", 36)
    assert refused(api, stack, too_many, [{"socialAccountId": TIKTOK, "mode": "publish"}]) == [
        ("targets[0]", "media_count")]


def test_first_comment_override_on_tiktok(api, stack):
    assert refused(api, stack, VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish",
                                        "firstCommentOverride": "link in bio"}]) == [
        ("targets[0].firstCommentOverride", "not_supported_on_tiktok")]


@pytest.mark.parametrize("override,code", [
    ("x" * 2201, "caption_too_long"),
    (" ".join(f"#t{i}" for i in range(31)), "too_many_hashtags"),
    (" ".join(f"@u{i}" for i in range(21)), "too_many_mentions"),
])
def test_instagram_caption_rules(api, stack, override, code):
    assert refused(api, stack, IMAGE, [{"socialAccountId": INSTAGRAM, "mode": "publish",
                                        "captionOverride": override}]) == [("targets[0].captionOverride", code)]


@pytest.mark.parametrize("count", [1, 11])
def test_instagram_carousel_takes_2_to_10(api, stack, count):
    carousel = container(stack, 210 + count, "slideshow", count)
    assert refused(api, stack, carousel, [{"socialAccountId": INSTAGRAM, "mode": "publish"}]) == [
        ("targets[0]", "media_count")]


def test_instagram_first_comment_over_2200(api, stack):
    assert refused(api, stack, IMAGE, [{"socialAccountId": INSTAGRAM, "mode": "publish",
                                        "firstCommentOverride": "y" * 2201}]) == [
        ("targets[0].firstCommentOverride", "first_comment_too_long")]


def test_limits_at_the_edge_are_accepted(api, stack):
    reply = api.schedule(VIDEO, [
        {"socialAccountId": TIKTOK, "mode": "publish", "captionOverride": "a" * 2198 + EMOJI},
        {"socialAccountId": INSTAGRAM, "mode": "publish", "captionOverride": " ".join(
            [f"#t{i}" for i in range(30)] + [f"@u{i}" for i in range(20)]), "firstCommentOverride": "y" * 2200},
    ])
    assert reply.status == 200, reply.body


# -- all at once -------------------------------------------------------------------------------

def test_every_issue_of_a_batch_in_one_422(api, stack):
    targets = [
        {"socialAccountId": TIKTOK, "mode": "publish", "captionOverride": "a" * 2201},
        {"socialAccountId": TIKTOK, "mode": "draft", "firstCommentOverride": "hi"},
        {"socialAccountId": INSTAGRAM, "mode": "publish", "captionOverride": "#a " * 31,
         "firstCommentOverride": "y" * 2201},
        {"socialAccountId": PRIVATE_TIKTOK, "mode": "publish",
         "tiktokPostSettings": {"privacyLevel": "PUBLIC_TO_EVERYONE"}},
    ]
    assert refused(api, stack, VIDEO, targets) == [
        ("targets[0].captionOverride", "caption_too_long"),
        ("targets[1].firstCommentOverride", "not_supported_on_tiktok"),
        ("targets[2].captionOverride", "too_many_hashtags"),
        ("targets[2].firstCommentOverride", "first_comment_too_long"),
        ("targets[3].tiktokPostSettings.privacyLevel", "privacy_level_not_allowed"),
    ]
    # publish-now runs the same rules
    assert len(refused(api, stack, VIDEO, targets, path="publish")) == 5


# -- TikTok privacy (sandbox creator_info = the fixture's privacyLevelOptions) -----------------

def test_an_explicit_level_outside_the_options_lists_the_allowed_ones(api, stack):
    before = rows(stack)
    reply = api.schedule(VIDEO, [{"socialAccountId": PRIVATE_TIKTOK, "mode": "publish",
                                  "tiktokPostSettings": {"privacyLevel": "PUBLIC_TO_EVERYONE"}}])
    issue = assert_envelope(reply, 422, "VALIDATION")["issues"][0]
    assert issue["path"] == "targets[0].tiktokPostSettings.privacyLevel"
    assert issue["code"] == "privacy_level_not_allowed"
    assert "FOLLOWER_OF_CREATOR, MUTUAL_FOLLOW_FRIENDS, SELF_ONLY" in issue["message"]
    assert rows(stack) == before


def test_the_post_shows_its_privacy_level(api):
    reply = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"},
                                 {"socialAccountId": PRIVATE_TIKTOK, "mode": "publish"},
                                 {"socialAccountId": TIKTOK, "mode": "draft"},
                                 {"socialAccountId": INSTAGRAM, "mode": "publish"}])
    assert reply.status == 200, reply.body
    shown = [api.get(f"/v1/scheduled-posts/{i}").body["privacyLevel"] for i in reply.body["scheduledPostIds"]]
    assert shown == ["PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR", None, None]


def test_a_private_account_with_the_level_omitted_is_published_to_followers(api):
    reply = api.post(f"/v1/content/{VIDEO}/publish", {"targets": [{"socialAccountId": PRIVATE_TIKTOK,
                                                                    "mode": "publish"}]})
    assert reply.status == 200, reply.body
    [post_id] = reply.body["scheduledPostIds"]
    deadline = time.monotonic() + 10
    while (post := api.get(f"/v1/scheduled-posts/{post_id}").body)["status"] != "published":
        assert time.monotonic() < deadline, post
        time.sleep(0.2)
    delivered = [d for d in api.get("/_local/sandbox/deliveries", key=None).body["items"]
                 if d.get("scheduledPostId") == post_id]
    assert [d["privacyLevel"] for d in delivered] == ["FOLLOWER_OF_CREATOR"]


# -- dry run -----------------------------------------------------------------------------------

def idempotency_record(stack, key: str) -> dict | None:
    from tests.support import KEY
    from layers_shared import auth

    key_id = auth.parse_key(KEY).key_id
    return stack.table.get(keys.idempotency(f"{key_id}#POST /v1/content/{{containerId}}/schedule#{key}"))


def test_dry_run_answers_what_would_happen_and_writes_nothing(api, stack):
    before, key = rows(stack), str(uuid.uuid4())
    when = future(60)
    body = {"scheduledFor": when, "targets": [{"socialAccountId": PRIVATE_TIKTOK, "mode": "publish"},
                                              {"socialAccountId": INSTAGRAM, "mode": "publish"}]}
    reply = api.post(f"/v1/content/{VIDEO}/schedule?dryRun=true", body, headers={"Idempotency-Key": key})
    assert reply.status == 200, reply.body
    assert reply.body == {"dryRun": True, "valid": True, "gateStatus": "queued", "scheduledFor": when, "targets": [
        {"socialAccountId": PRIVATE_TIKTOK, "platform": "tiktok", "mode": "publish",
         "privacyLevel": "FOLLOWER_OF_CREATOR"},
        {"socialAccountId": INSTAGRAM, "platform": "instagram", "mode": "publish", "privacyLevel": None}]}
    assert reply.header("X-RateLimit-Endpoint-Class") == "read-light"
    assert rows(stack) == before and idempotency_record(stack, key) is None
    # The key was not consumed: the real call with it schedules.
    real = api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key})
    assert real.status == 200 and "scheduledPostIds" in real.body and real.header("Idempotent-Replayed") is None
    assert rows(stack) == before + 2


@pytest.mark.parametrize("container_id,targets,status,code", [
    (VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish", "captionOverride": "a" * 2201}], 422, "VALIDATION"),
    (VIDEO, [{"socialAccountId": sa(98), "mode": "publish"}], 404, "NOT_FOUND"),
    (cnt(4), [{"socialAccountId": TIKTOK, "mode": "publish"}], 409, "CONFLICT"),
    (VIDEO, [{"socialAccountId": sa(5), "mode": "publish"}], 422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY"),
])
def test_dry_run_answers_the_same_errors_as_the_real_call(api, stack, container_id, targets, status, code):
    body = {"scheduledFor": future(), "targets": targets}
    before = rows(stack)
    dry = api.post(f"/v1/content/{container_id}/schedule?dryRun=true", body)
    real = api.post(f"/v1/content/{container_id}/schedule", body)
    assert_envelope(dry, status, code)
    assert_envelope(real, status, code)
    assert dry.details == real.details and rows(stack) == before


def test_dry_run_of_publish_now_and_of_a_gated_container(api, stack):
    before = rows(stack)
    now = api.post(f"/v1/content/{VIDEO}/publish?dryRun=true", {"targets": [{"socialAccountId": TIKTOK,
                                                                             "mode": "publish"}]})
    assert now.status == 200 and now.body["dryRun"] is True and now.body["targets"][0]["privacyLevel"] == \
        "PUBLIC_TO_EVERYONE"
    gated_now = api.post(f"/v1/content/{PENDING}/publish?dryRun=true",
                         {"targets": [{"socialAccountId": sa(9), "mode": "publish"}]})
    assert_envelope(gated_now, 403, "APPROVAL_REQUIRED")
    gated = api.post(f"/v1/content/{PENDING}/schedule?dryRun=true",
                     {"scheduledFor": future(), "targets": [{"socialAccountId": sa(9), "mode": "publish"}]})
    assert gated.status == 200 and gated.body["gateStatus"] == "blocked_on_approval"
    assert api.get(f"/v1/content/{PENDING}").body["pendingSchedule"] is None
    assert rows(stack) == before


def test_dry_run_reports_a_partner_id_that_is_taken(api):
    mine = f"sp_{uuid.uuid4()}"
    assert api.schedule(IMAGE, [{"socialAccountId": TIKTOK, "mode": "publish", "scheduledPostId": mine}]).status == 200
    reply = api.post(f"/v1/content/{IMAGE}/schedule?dryRun=true", {"scheduledFor": future(), "targets": [
        {"socialAccountId": TIKTOK, "mode": "publish", "scheduledPostId": mine}]})
    assert assert_envelope(reply, 409, "CONFLICT_DUPLICATE_ID")["scheduledPostIds"] == [mine]


def test_dry_run_takes_only_true_or_false(api):
    reply = api.post(f"/v1/content/{VIDEO}/schedule?dryRun=yes",
                     {"scheduledFor": future(), "targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]})
    assert assert_envelope(reply, 422, "VALIDATION")["issues"][0]["path"] == "dryRun"
