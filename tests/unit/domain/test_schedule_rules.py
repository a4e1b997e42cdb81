"""The schedule rules as pure functions: body -> intent -> planned rows."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from layers_shared.domain import errors
from layers_shared.domain import schedule as rules
from layers_shared.models.entities import Container, Layer, MusicTrack, SocialAccount

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
ORG = "org_11111111-1111-4111-8111-111111111111"
PRJ = "prj_33333333-3333-4333-8333-000000000001"
TRACK = "77777777-7777-4777-8777-000000000001"
MANAGED = "af058068-ad85-4fb8-92a1-f531b40bfcbc"


def sa(n: int) -> str:
    return f"sa_55555555-5555-4555-8555-{n:012d}"


def account(n: int, platform: str = "tiktok", **kw) -> SocialAccount:
    scopes = ["video.publish", "video.upload"] if platform == "tiktok" else ["instagram_content_publish"]
    data = dict(id=sa(n), projectId=PRJ, organizationId=ORG, platform=platform, handle=f"h{n}",
                grantedScopes=scopes)
    data.update(kw)
    return SocialAccount(**data)


def container(media_type: str = "video", **kw) -> Container:
    data = dict(id="cnt_66666666-6666-4666-8666-000000000001", projectId=PRJ, organizationId=ORG,
                status="completed", mediaType=media_type, caption="Morning pour",
                media=[{"url": "https://m/a.mp4", "kind": "video"}])
    data.update(kw)
    return Container(**data)


def world(accounts: list[SocialAccount], media_type: str = "video", layers: dict | None = None) -> rules.World:
    return rules.World(ORG, container(media_type), {a.id: a for a in accounts},
                       {TRACK: MusicTrack(id=TRACK, title="Sunset Drive", previewUrl="https://m/p.mp3")},
                       layers or {})


def body(targets, when: str | None = "2026-06-01T13:00:00Z"):
    data = {"targets": targets}
    if when is not None:
        data["scheduledFor"] = when
    return data


def issues_of(call) -> list[dict]:
    with pytest.raises(errors.ValidationFailed) as err:
        call()
    return err.value.details["issues"]


def test_a_valid_body_becomes_an_intent_in_utc():
    intent = rules.parse_schedule_body(body([{"socialAccountId": sa(1), "mode": "publish"}],
                                            "2026-06-01T15:00:00+02:00"), NOW, publish_now=False)
    assert intent.scheduled_for == datetime(2026, 6, 1, 13, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("when,code", [
    ("2026-06-01T11:59:00Z", "in_past"), ("2026-06-01T13:00:00", "naive_datetime"),
    ("next tuesday", "invalid_datetime"), ("2027-06-02T12:00:00Z", "too_far"), (None, "required"),
])
def test_scheduled_for_problems_are_the_first_issue(when, code):
    found = issues_of(lambda: rules.parse_schedule_body(body([{"socialAccountId": "x", "mode": "nope"}], when),
                                                        NOW, publish_now=False))
    assert found[0]["path"] == "scheduledFor" and found[0]["code"] == code
    assert any(i["path"] == "targets[0].mode" for i in found)


def test_clock_skew_tolerance_is_thirty_seconds():
    ok = rules.parse_schedule_body(body([{"socialAccountId": sa(1), "mode": "publish"}], "2026-06-01T11:59:31Z"),
                                   NOW, publish_now=False)
    assert ok.scheduled_for < NOW
    found = issues_of(lambda: rules.parse_schedule_body(
        body([{"socialAccountId": sa(1), "mode": "publish"}], "2026-06-01T11:59:29Z"), NOW, publish_now=False))
    assert found[0]["code"] == "in_past"


def test_every_issue_is_reported_at_once():
    targets = [
        {"socialAccountId": sa(1), "mode": "draft", "tiktokMusic": {"mode": "auto"}},
        {"socialAccountId": sa(2), "mode": "managed", "shareReelToFeed": False},
        {"socialAccountId": sa(3), "mode": "publish", "captionOverride": "x" * 4001},
        {"socialAccountId": sa(3), "mode": "publish"},
        {"socialAccountId": sa(4), "mode": "publish", "tiktokMusic": {"mode": "manual"}},
        {"socialAccountId": sa(5), "mode": "publish", "scheduledPostId": "sp_nope"},
        {"socialAccountId": sa(6), "mode": "publish", "surprise": 1},
    ]
    paths = {i["path"] for i in issues_of(lambda: rules.parse_schedule_body(body(targets), NOW, publish_now=False))}
    assert {"targets[0].tiktokMusic", "targets[1].shareReelToFeed", "targets[2].captionOverride",
            "targets[4].tiktokMusic", "targets[5].scheduledPostId", "targets[6].surprise"} <= paths


def test_same_account_twice_needs_different_modes():
    ok = rules.parse_schedule_body(body([{"socialAccountId": sa(1), "mode": "publish"},
                                         {"socialAccountId": sa(1), "mode": "draft"}]), NOW, publish_now=False)
    assert len(ok.targets) == 2
    found = issues_of(lambda: rules.parse_schedule_body(
        body([{"socialAccountId": sa(1), "mode": "publish"}, {"socialAccountId": sa(1), "mode": "publish"}]),
        NOW, publish_now=False))
    assert found == [errors.issue("targets[1]", "duplicate_target", found[0]["message"])]


def test_duplicate_partner_ids_in_one_request_are_422():
    same = "sp_8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999"
    found = issues_of(lambda: rules.parse_schedule_body(body([
        {"socialAccountId": sa(1), "mode": "publish", "scheduledPostId": same},
        {"socialAccountId": sa(2), "mode": "publish", "scheduledPostId": same}]), NOW, publish_now=False))
    assert found[0]["path"] == "targets[1].scheduledPostId" and found[0]["code"] == "duplicate"


@pytest.mark.parametrize("targets,code", [([], "too_few"), ("x", "invalid_type"), (None, "required")])
def test_target_list_shape(targets, code):
    data = {"scheduledFor": "2026-06-01T13:00:00Z"}
    if targets is not None:
        data["targets"] = targets
    found = issues_of(lambda: rules.parse_schedule_body(data, NOW, publish_now=False))
    assert found == [errors.issue("targets", code, found[0]["message"])]


def test_publish_now_has_no_scheduled_for():
    intent = rules.parse_schedule_body({"targets": [{"socialAccountId": sa(1), "mode": "publish"}]}, NOW,
                                       publish_now=True)
    assert intent.scheduled_for == NOW
    found = issues_of(lambda: rules.parse_schedule_body(body([{"socialAccountId": sa(1), "mode": "publish"}]), NOW,
                                                        publish_now=True))
    assert found[0]["path"] == "scheduledFor" and found[0]["code"] == "unknown_field"


def plan(targets, accounts, media_type="video", layers=None):
    intent = rules.parse_schedule_body(body(targets), NOW, publish_now=False)
    return rules.plan_posts(intent, world(accounts, media_type, layers), env="test", key_id="K", now=NOW,
                            post_ids=rules.assign_ids(intent))


def test_share_reel_to_feed_reasons_come_with_details():
    with pytest.raises(errors.DomainError) as err:
        plan([{"socialAccountId": sa(1), "mode": "publish", "shareReelToFeed": True}], [account(1)])
    assert err.value.details["reason"] == "non_instagram_target"
    assert err.value.details["platform"] == "tiktok" and err.value.details["socialAccountId"] == sa(1)
    with pytest.raises(errors.DomainError) as err:
        plan([{"socialAccountId": sa(2), "mode": "publish", "shareReelToFeed": False}],
             [account(2, "instagram")], media_type="image")
    assert err.value.details["reason"] == "non_video_container" and err.value.details["mediaType"] == "image"


def test_foreign_or_missing_account_is_404_for_the_whole_batch():
    foreign = account(9, organizationId="org_22222222-2222-4222-8222-222222222222")
    with pytest.raises(errors.DomainError) as err:
        plan([{"socialAccountId": sa(1), "mode": "publish"}, {"socialAccountId": sa(9), "mode": "publish"}],
             [account(1), foreign])
    assert isinstance(err.value, errors.NotFound)


def test_account_of_another_project_is_a_validation_issue():
    other = account(3, projectId="prj_33333333-3333-4333-8333-000000000002")
    with pytest.raises(errors.DomainError) as err:
        plan([{"socialAccountId": sa(3), "mode": "publish"}], [other])
    assert err.value.details["issues"][0]["code"] == "account_not_in_project"


def test_unknown_track_on_tiktok_is_422_but_ignored_on_instagram():
    ghost = "77777777-7777-4777-8777-000000000099"
    with pytest.raises(errors.DomainError) as err:
        plan([{"socialAccountId": sa(1), "mode": "publish", "tiktokMusic": {"mode": "manual", "trackId": ghost}}],
             [account(1)])
    assert err.value.details["issues"][0]["code"] == "unknown_track"
    posts = plan([{"socialAccountId": sa(2), "mode": "publish", "tiktokMusic": {"mode": "manual", "trackId": ghost}}],
                 [account(2, "instagram")])
    assert posts[0].tiktokMusic is None


@pytest.mark.parametrize("acct,mode,reason", [
    (dict(status="reauth_required"), "publish", "status:reauth_required"),
    (dict(grantedScopes=["video.upload"]), "publish", "missing_scope:video.publish"),
    (dict(grantedScopes=["video.publish"]), "draft", "missing_scope:video.upload"),
    ({}, "managed", "no_managed_layer"),
])
def test_not_publish_ready(acct, mode, reason):
    with pytest.raises(errors.DomainError) as err:
        plan([{"socialAccountId": sa(1), "mode": mode}], [account(1, **acct)])
    assert err.value.code == "SOCIAL_ACCOUNT_NOT_PUBLISH_READY"
    assert err.value.details == {"socialAccountId": sa(1), "mode": mode, "reason": reason}


def test_rows_snapshot_caption_settings_music_and_provider():
    layer = Layer(id="lyr_1", projectId=PRJ, templateId=MANAGED, config={"provider": "acme"})
    posts = plan([
        {"socialAccountId": sa(1), "mode": "publish", "captionOverride": "Fresh",
         "tiktokPostSettings": {"privacyLevel": "SELF_ONLY", "isBrandedContent": True}},
        {"socialAccountId": sa(1), "mode": "managed", "tiktokMusic": {"mode": "manual", "trackId": TRACK}},
        {"socialAccountId": sa(2), "mode": "publish"},
    ], [account(1, layerIds=["lyr_1"]), account(2, "instagram")], layers={"lyr_1": layer})
    first, managed, reel = posts
    assert first.caption == "Fresh" and first.tiktokPostSettings == {"privacyLevel": "SELF_ONLY",
                                                                     "isBrandedContent": True}
    assert managed.managedProvider == "acme" and managed.tiktokMusic["link"] == "https://m/p.mp3"
    assert reel.shareReelToFeed is True and reel.caption == "Morning pour"
    assert all(p.status == "queued" and p.scheduledFor == "2026-06-01T13:00:00.000Z" for p in posts)


# -- properties ------------------------------------------------------------------------------

modes = st.sampled_from(["publish", "draft", "managed", "bogus"])
target = st.fixed_dictionaries({
    "socialAccountId": st.sampled_from([sa(1), sa(2), "garbage"]),
    "mode": modes,
}, optional={
    "tiktokMusic": st.sampled_from([{"mode": "auto"}, {"mode": "none"}, {"mode": "manual", "trackId": TRACK}]),
    "shareReelToFeed": st.booleans(),
    "captionOverride": st.text(max_size=5) | st.just("x" * 4001),
})


@settings(max_examples=100, deadline=None)  # 300 cost a second per run; 100 still mixes valid and invalid
@given(st.lists(target, min_size=0, max_size=55))
def test_parsing_is_all_or_nothing_and_paths_point_into_the_body(targets):
    try:
        intent = rules.parse_schedule_body(body(targets), NOW, publish_now=False)
    except errors.ValidationFailed as err:
        for found in err.details["issues"]:
            path = found["path"]
            assert path == "targets" or path.startswith("targets[")
            if path.startswith("targets["):
                assert int(path[len("targets["):path.index("]")]) < len(targets)
        return
    assert 1 <= len(intent.targets) <= 50 and len(intent.targets) == len(targets)


@settings(max_examples=100, deadline=None)  # 15 (account, mode) pairs: 100 lists of up to 12 cover them
@given(st.lists(st.tuples(st.sampled_from([1, 2, 4, 5, 9]), st.sampled_from(["publish", "draft", "managed"])),
                min_size=1, max_size=12, unique=True))
def test_planning_yields_one_row_per_target_or_raises(pairs):
    accounts = [account(1), account(2, "instagram"), account(4, status="reauth_required"),
                account(5, grantedScopes=["video.upload"]),
                account(9, organizationId="org_22222222-2222-4222-8222-222222222222")]
    targets = [{"socialAccountId": sa(n), "mode": m} for n, m in pairs]
    try:
        posts = plan(targets, accounts)
    except (errors.NotFound, errors.ValidationFailed, errors.NotPublishReady):
        return
    assert [p.socialAccountId for p in posts] == [t["socialAccountId"] for t in targets]
    assert len({p.id for p in posts}) == len(posts)
