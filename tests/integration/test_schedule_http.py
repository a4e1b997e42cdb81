"""POST /v1/content/{containerId}/schedule over HTTP against the local stack:
every error row of the seed page, atomicity, idempotency, tenancy."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from tests.support import (
    FOREIGN, FOREIGN_CONTAINER, GATED_ACCOUNT, IG_PERSONAL, IMAGE, INSTAGRAM, KEY, NO_SCOPE_KEY,
    NO_PROVIDER, OTHER_ORG_KEY, PENDING, PROCESSING, READ_KEY, REAUTH, REJECTED, REVOKED_KEY,
    SLIDESHOW, TIKTOK, UPLOAD_ONLY, VIDEO, assert_envelope, future, past, project_post_rows, sa, track,
)


def rows_for(stack, container_id: str) -> list[dict]:
    """Every scheduled_posts row of a container, straight from the table."""
    from layers_shared.store.table import Table

    return [i for i in project_post_rows(Table(), "prj_33333333-3333-4333-8333-000000000001")
            if i["containerId"] == container_id]


def fresh_sp() -> str:
    return f"sp_{uuid.uuid4()}"


def test_happy_path_returns_ids_and_rows_are_queued(api):
    when = future(30)
    reply = api.schedule(VIDEO, [
        {"socialAccountId": TIKTOK, "mode": "publish",
         "tiktokPostSettings": {"privacyLevel": "PUBLIC_TO_EVERYONE", "isBrandedContent": True}},
        {"socialAccountId": TIKTOK, "mode": "draft", "captionOverride": "Fresh pour, ready now."},
        {"socialAccountId": INSTAGRAM, "mode": "publish", "shareReelToFeed": False},
    ], when)
    assert reply.status == 200, reply.body
    assert reply.body["gateStatus"] == "queued" and reply.body["scheduledFor"] == when
    assert len(reply.body["scheduledPostIds"]) == 3
    for post_id in reply.body["scheduledPostIds"]:
        got = api.get(f"/v1/scheduled-posts/{post_id}")
        assert got.status == 200 and got.body["status"] == "queued" and got.body["scheduledFor"] == when
        assert got.body["containerId"] == VIDEO and got.body["lastError"] is None
    assert reply.header("X-Request-Id").startswith("req_")


def test_offsets_are_stored_and_returned_as_utc_z(api):
    reply = api.schedule(IMAGE, [{"socialAccountId": TIKTOK, "mode": "publish"}], "2027-06-01T09:00:00-04:00")
    assert reply.status == 200 and reply.body["scheduledFor"] == "2027-06-01T13:00:00Z"


def test_partner_supplied_ids_are_used(api):
    mine = fresh_sp()
    reply = api.schedule(IMAGE, [{"socialAccountId": TIKTOK, "mode": "publish", "scheduledPostId": mine}])
    assert reply.status == 200 and reply.body["scheduledPostIds"] == [mine]


# -- the seed's error table --------------------------------------------------------------------

def test_422_scheduled_for_in_the_past(api):
    details = assert_envelope(api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}], past(5)),
                              422, "VALIDATION")
    assert details["issues"][0]["path"] == "scheduledFor"


@pytest.mark.parametrize("body,path", [
    ({"scheduledFor": "2027-01-01T00:00:00Z", "targets": []}, "targets"),
    ({"scheduledFor": "soon", "targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}, "scheduledFor"),
    ({"scheduledFor": "2027-01-01T00:00:00Z", "targets": [{"socialAccountId": TIKTOK, "mode": "reels"}]},
     "targets[0].mode"),
    ({"scheduledFor": "2027-01-01T00:00:00Z",
      "targets": [{"socialAccountId": TIKTOK, "mode": "draft", "tiktokMusic": {"mode": "auto"}}]},
     "targets[0].tiktokMusic"),
    ({"scheduledFor": "2027-01-01T00:00:00Z",
      "targets": [{"socialAccountId": INSTAGRAM, "mode": "draft", "shareReelToFeed": True}]},
     "targets[0].shareReelToFeed"),
])
def test_422_validation_rows(api, body, path):
    details = assert_envelope(api.post(f"/v1/content/{VIDEO}/schedule", body), 422, "VALIDATION")
    assert path in [i["path"] for i in details["issues"]]
    assert all({"path", "code", "message"} <= set(i) for i in details["issues"])


def test_422_share_reel_to_feed_on_tiktok_names_the_reason(api):
    details = assert_envelope(api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish",
                                                    "shareReelToFeed": True}]), 422, "VALIDATION")
    assert details["reason"] == "non_instagram_target"
    assert details["platform"] == "tiktok" and details["socialAccountId"] == TIKTOK


def test_422_share_reel_to_feed_on_a_slideshow_names_the_reason(api):
    details = assert_envelope(api.schedule(SLIDESHOW, [{"socialAccountId": INSTAGRAM, "mode": "publish",
                                                        "shareReelToFeed": False}]), 422, "VALIDATION")
    assert details["reason"] == "non_video_container" and details["mediaType"] == "slideshow"


def test_tiktok_fields_on_instagram_are_ignored_not_rejected(api):
    reply = api.schedule(VIDEO, [{"socialAccountId": INSTAGRAM, "mode": "publish",
                                  "tiktokPostSettings": {"privacyLevel": "SELF_ONLY"},
                                  "tiktokMusic": {"mode": "manual", "trackId": track(42)}}])
    assert reply.status == 200, reply.body


def test_422_unknown_track(api):
    details = assert_envelope(api.schedule(IMAGE, [{"socialAccountId": TIKTOK, "mode": "publish",
                                                    "tiktokMusic": {"mode": "manual", "trackId": track(42)}}]),
                              422, "VALIDATION")
    assert details["issues"][0] == {"path": "targets[0].tiktokMusic.trackId", "code": "unknown_track",
                                    "message": details["issues"][0]["message"]}


def test_known_track_is_accepted(api):
    reply = api.schedule(IMAGE, [{"socialAccountId": TIKTOK, "mode": "publish",
                                  "tiktokMusic": {"mode": "manual", "trackId": track(1)}}])
    assert reply.status == 200, reply.body


def test_422_account_of_another_project(api):
    details = assert_envelope(api.schedule(VIDEO, [{"socialAccountId": GATED_ACCOUNT, "mode": "publish"}]),
                              422, "VALIDATION")
    assert details["issues"][0]["code"] == "account_not_in_project"
    assert details["issues"][0]["path"] == "targets[0].socialAccountId"


@pytest.mark.parametrize("account,mode,reason", [
    (REAUTH, "publish", "status:reauth_required"),
    (UPLOAD_ONLY, "publish", "missing_scope:video.publish"),
    (NO_PROVIDER, "managed", "no_provider"),
    (INSTAGRAM, "managed", "no_managed_layer"),
])
def test_422_social_account_not_publish_ready(api, account, mode, reason):
    details = assert_envelope(api.schedule(VIDEO, [{"socialAccountId": account, "mode": mode}]),
                              422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY")
    assert details["socialAccountId"] == account and details["mode"] == mode and details["reason"] == reason


def test_instagram_personal_passes_readiness(api):
    assert api.schedule(IMAGE, [{"socialAccountId": IG_PERSONAL, "mode": "publish"}]).status == 200


def test_401_missing_malformed_unknown_revoked(api):
    target = [{"socialAccountId": TIKTOK, "mode": "publish"}]
    for key in (None, "nope", "lp_test_ZZZZZZZZZZZZZZZZ_unknown-secret-value-000", REVOKED_KEY,
                KEY[:-1] + "X", KEY.replace("lp_test_", "lp_live_")):
        assert_envelope(api.schedule(VIDEO, target, key=key), 401, "UNAUTHENTICATED")


def test_403_forbidden_scope(api):
    details = assert_envelope(api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}], key=READ_KEY),
                              403, "FORBIDDEN_SCOPE")
    assert details["requiredScope"] == "publish:write"
    assert_envelope(api.schedule(VIDEO, [], key=NO_SCOPE_KEY), 403, "FORBIDDEN_SCOPE")


def test_404_container_of_another_org_or_missing(api):
    target = [{"socialAccountId": TIKTOK, "mode": "publish"}]
    assert_envelope(api.schedule(FOREIGN_CONTAINER, target), 404, "NOT_FOUND")
    assert_envelope(api.schedule("cnt_00000000-0000-4000-8000-000000000000", target), 404, "NOT_FOUND")
    assert_envelope(api.schedule("not-an-id", target), 404, "NOT_FOUND")


def test_404_foreign_account_and_zero_rows(stack, api):
    before = len(rows_for(stack, SLIDESHOW))
    reply = api.schedule(SLIDESHOW, [{"socialAccountId": TIKTOK, "mode": "publish"},
                                     {"socialAccountId": FOREIGN, "mode": "publish"}])
    assert_envelope(reply, 404, "NOT_FOUND")
    assert len(rows_for(stack, SLIDESHOW)) == before


def test_409_container_not_completed(api):
    details = assert_envelope(api.schedule(PROCESSING, [{"socialAccountId": TIKTOK, "mode": "publish"}]),
                              409, "CONFLICT")
    assert details["reason"] == "CONTENT_NOT_READY"


def test_409_content_rejected(api):
    assert_envelope(api.schedule(REJECTED, [{"socialAccountId": TIKTOK, "mode": "publish"}]),
                    409, "CONTENT_REJECTED")


def test_409_duplicate_id_and_zero_rows(stack, api):
    taken = fresh_sp()
    assert api.schedule(SLIDESHOW, [{"socialAccountId": TIKTOK, "mode": "publish", "scheduledPostId": taken}]).status == 200
    before = len(rows_for(stack, SLIDESHOW))
    reply = api.schedule(SLIDESHOW, [{"socialAccountId": TIKTOK, "mode": "draft", "scheduledPostId": fresh_sp()},
                                     {"socialAccountId": INSTAGRAM, "mode": "publish", "scheduledPostId": taken}])
    details = assert_envelope(reply, 409, "CONFLICT_DUPLICATE_ID")
    assert details["scheduledPostIds"] == [taken]
    assert len(rows_for(stack, SLIDESHOW)) == before


def test_duplicate_id_across_organizations(api):
    taken = fresh_sp()
    assert api.schedule(IMAGE, [{"socialAccountId": TIKTOK, "mode": "publish", "scheduledPostId": taken}]).status == 200
    other = api.schedule("cnt_66666666-6666-4666-8666-000000000099",
                         [{"socialAccountId": FOREIGN, "mode": "publish", "scheduledPostId": taken}],
                         key=OTHER_ORG_KEY)
    assert_envelope(other, 409, "CONFLICT_DUPLICATE_ID")


# -- all or nothing ------------------------------------------------------------------------------

def test_51_targets_leave_zero_rows(stack, api):
    before = len(rows_for(stack, VIDEO))
    targets = [{"socialAccountId": TIKTOK, "mode": "publish"} for _ in range(51)]
    details = assert_envelope(api.schedule(VIDEO, targets), 422, "VALIDATION")
    assert details["issues"][0] == {"path": "targets", "code": "too_many", "message": details["issues"][0]["message"]}
    assert len(rows_for(stack, VIDEO)) == before


def test_one_not_ready_target_leaves_zero_rows(stack, api):
    before = len(rows_for(stack, VIDEO))
    reply = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"},
                                 {"socialAccountId": INSTAGRAM, "mode": "publish"},
                                 {"socialAccountId": REAUTH, "mode": "publish"}])
    assert_envelope(reply, 422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY")
    assert len(rows_for(stack, VIDEO)) == before


def test_fifty_targets_in_one_call(stack, api):
    accounts = [TIKTOK, INSTAGRAM, IG_PERSONAL, sa(11)]
    modes = ["publish", "draft"]
    pairs = [(a, m) for a in accounts for m in modes]
    # 8 distinct (account, mode) pairs exist in the fixture's main project; repeat containers to reach 50 rows
    reply = api.schedule(VIDEO, [{"socialAccountId": a, "mode": m} for a, m in pairs])
    assert reply.status == 200 and len(reply.body["scheduledPostIds"]) == len(pairs)


# -- idempotency -------------------------------------------------------------------------------------

def test_replay_returns_the_stored_answer(stack, api):
    key = str(uuid.uuid4())
    body = {"scheduledFor": future(60), "targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}
    first = api.post(f"/v1/content/{IMAGE}/schedule", body, headers={"Idempotency-Key": key})
    second = api.post(f"/v1/content/{IMAGE}/schedule",
                      {"targets": body["targets"], "scheduledFor": body["scheduledFor"]},  # other key order
                      headers={"Idempotency-Key": key})
    assert first.status == second.status == 200
    assert second.body == first.body and second.header("Idempotent-Replayed") == "true"
    assert first.header("Idempotent-Replayed") is None
    assert second.header("X-Request-Id") != first.header("X-Request-Id")


def test_same_key_other_body_or_container_is_a_conflict(api):
    key = str(uuid.uuid4())
    body = {"scheduledFor": future(61), "targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}
    assert api.post(f"/v1/content/{IMAGE}/schedule", body, headers={"Idempotency-Key": key}).status == 200
    changed = dict(body, scheduledFor=future(62))
    assert_envelope(api.post(f"/v1/content/{IMAGE}/schedule", changed, headers={"Idempotency-Key": key}),
                    409, "IDEMPOTENCY_CONFLICT")
    assert_envelope(api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key}),
                    409, "IDEMPOTENCY_CONFLICT")


def test_errors_that_depend_on_input_are_replayed_too(api):
    key = str(uuid.uuid4())
    body = {"scheduledFor": future(5), "targets": [{"socialAccountId": REAUTH, "mode": "publish"}]}
    first = api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key})
    again = api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key})
    assert first.status == again.status == 422 and again.header("Idempotent-Replayed") == "true"
    assert again.body == first.body


def test_auth_failures_are_not_stored(api):
    key = str(uuid.uuid4())
    body = {"scheduledFor": future(5), "targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}
    assert api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key},
                    key=READ_KEY).status == 403
    fixed = api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key})
    assert fixed.status == 200 and fixed.header("Idempotent-Replayed") is None


def test_idempotency_keys_are_scoped_per_api_key(api):
    from tests.support import WRITE_KEY

    key = str(uuid.uuid4())
    body = {"scheduledFor": future(5), "targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}
    first = api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key})
    other = api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key}, key=WRITE_KEY)
    assert first.status == other.status == 200
    assert other.header("Idempotent-Replayed") is None
    assert other.body["scheduledPostIds"] != first.body["scheduledPostIds"]


def test_bad_idempotency_key_is_422(api):
    details = assert_envelope(api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}],
                                           headers={"Idempotency-Key": "x" * 256}), 422, "VALIDATION")
    assert details["issues"][0]["path"] == "headers.Idempotency-Key"


def test_twenty_concurrent_identical_requests_create_one_set_of_rows(stack, api):
    key = str(uuid.uuid4())
    body = {"scheduledFor": future(90), "targets": [{"socialAccountId": TIKTOK, "mode": "publish"},
                                                    {"socialAccountId": INSTAGRAM, "mode": "publish"}]}
    before = len(rows_for(stack, VIDEO))
    replies = []
    gate = threading.Barrier(20)

    def go():
        gate.wait()
        replies.append(api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key}))

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rows_for(stack, VIDEO)) == before + 2
    ok = [r for r in replies if r.status == 200]
    busy = [r for r in replies if r.status == 409]
    assert ok and len(ok) + len(busy) == 20
    assert len({tuple(r.body["scheduledPostIds"]) for r in ok}) == 1
    for r in busy:
        assert r.code == "CONFLICT" and r.details["reason"] == "IDEMPOTENCY_IN_PROGRESS"
        assert r.header("Retry-After") == "1"
    # after the dust settles the key replays
    again = api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key})
    assert again.status == 200 and again.body == ok[0].body


# -- bodies that are not what they should be --------------------------------------------------------

@pytest.mark.parametrize("raw", [b"", b"not json", b"[1,2]", b'"str"', b"null", b"{" * 5000 + b"}" * 5000,
                                 b"[" * 100000 + b"]" * 100000, b"\xff\xfe"])
def test_any_body_gets_a_4xx_in_the_envelope(api, raw):
    reply = api.call("POST", f"/v1/content/{VIDEO}/schedule", raw=raw)
    assert 400 <= reply.status < 500, (reply.status, reply.body)
    assert_envelope(reply, 422, "VALIDATION")


def test_deeply_nested_field_values_are_422(api):
    nested = '{"a":' * 3000 + "1" + "}" * 3000
    raw = ('{"scheduledFor": "%s", "targets": [{"socialAccountId": "%s", "mode": "publish", '
           '"tiktokPostSettings": %s}]}' % (future(), TIKTOK, nested)).encode()
    assert_envelope(api.call("POST", f"/v1/content/{VIDEO}/schedule", raw=raw), 422, "VALIDATION")


# -- reads -------------------------------------------------------------------------------------------

def test_get_scheduled_post_tenancy(api):
    post_id = api.schedule(IMAGE, [{"socialAccountId": TIKTOK, "mode": "publish"}]).body["scheduledPostIds"][0]
    assert_envelope(api.get(f"/v1/scheduled-posts/{post_id}", key=OTHER_ORG_KEY), 404, "NOT_FOUND")
    bare = post_id.removeprefix("sp_")
    assert api.get(f"/v1/scheduled-posts/{bare}").body["id"] == post_id
    assert_envelope(api.get(f"/v1/scheduled-posts/{post_id}", key=NO_SCOPE_KEY), 403, "FORBIDDEN_SCOPE")


def test_get_content_and_whoami(api):
    got = api.get(f"/v1/content/{VIDEO}")
    assert got.status == 200 and got.body["id"] == VIDEO and got.body["status"] == "completed"
    assert got.body["assets"] == [{"kind": "video", "url": "https://media.example.com/pour.mp4"}]
    assert_envelope(api.get(f"/v1/content/{FOREIGN_CONTAINER}"), 404, "NOT_FOUND")
    me = api.get("/v1/whoami", key=NO_SCOPE_KEY)
    assert me.status == 200 and me.body["scopes"] == [] and me.body["mode"] == "test"
    assert me.body["organizationName"] == "Acme Coffee" and me.body["rateLimitTier"] == "standard"
    assert_envelope(api.get("/v1/whoami", key=None), 401, "UNAUTHENTICATED")


def test_every_answer_has_a_request_id_and_rate_limit_headers(api):
    reply = api.get("/v1/whoami")
    assert reply.header("X-Request-Id").startswith("req_")
    assert reply.header("X-RateLimit-Endpoint-Class") == "read-light"
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert reply.header(name).isdigit()


def test_unknown_route_is_a_404_envelope(api):
    assert_envelope(api.get("/v1/nothing-here"), 404, "NOT_FOUND")


def test_pending_gate_answers_202_and_writes_no_rows(stack, api):
    reply = api.schedule(PENDING, [{"socialAccountId": GATED_ACCOUNT, "mode": "publish"}])
    assert reply.status == 202 and reply.body["gateStatus"] == "blocked_on_approval"
    for post_id in reply.body["scheduledPostIds"]:
        assert api.get(f"/v1/scheduled-posts/{post_id}").status == 404
    content = api.get(f"/v1/content/{PENDING}").body
    assert content["pendingSchedule"]["scheduledPostIds"] == reply.body["scheduledPostIds"]


def test_429_when_the_write_budget_is_spent(api, monkeypatch):
    from layers_shared import clock, config

    monkeypatch.setenv("RATE_LIMITS_JSON", '{"standard": {"write-light": 2, "read-light": 100000}}')
    config.rate_limits.cache_clear()
    # A fresh one-minute window (the next one) for the whole test; no post of
    # this module is due within that minute, so the publisher loop is unaffected.
    start = clock.now().replace(second=1, microsecond=0) + timedelta(minutes=1)
    clock.set_now(start)
    try:
        body = {"scheduledFor": future(), "targets": []}  # counted before the body is read
        first, second, third = (api.post(f"/v1/content/{FOREIGN_CONTAINER}/schedule", body, key=OTHER_ORG_KEY)
                                for _ in range(3))
        assert first.status == second.status == 422
        assert second.header("X-RateLimit-Remaining") == "0"
        details = assert_envelope(third, 429, "RATE_LIMITED")
        assert int(third.header("Retry-After")) >= 1 and details["endpointClass"] == "write-light"
        assert third.header("X-RateLimit-Endpoint-Class") == "write-light"
        # reads have their own budget
        assert api.get("/v1/whoami", key=OTHER_ORG_KEY).status == 200
    finally:
        clock.set_now(None)
        monkeypatch.undo()  # restore the suite's generous limits before re-reading them
        config.rate_limits.cache_clear()


def test_partner_ids_are_canonical_lowercase_so_case_cannot_duplicate(api):
    mine = fresh_sp()
    upper = "sp_" + mine.removeprefix("sp_").upper()
    first = api.schedule(IMAGE, [{"socialAccountId": TIKTOK, "mode": "publish", "scheduledPostId": upper}])
    assert first.status == 200 and first.body["scheduledPostIds"] == [mine]
    assert api.get(f"/v1/scheduled-posts/{upper}").body["id"] == mine
    again = api.schedule(IMAGE, [{"socialAccountId": TIKTOK, "mode": "draft", "scheduledPostId": mine}])
    assert_envelope(again, 409, "CONFLICT_DUPLICATE_ID")
