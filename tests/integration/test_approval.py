"""The approval gate over HTTP (issue 5, "Done means"): stash on a pending
container, promotion on approve in one transaction, reject, and the failed
promotion when a stashed target no longer holds."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.support import (
    GATED_ACCOUNT, IMAGE, KEY, OTHER_ORG_KEY, PENDING, PENDING_2, READ_KEY, REJECTED, VIDEO,
    assert_envelope, future, prj,
)

GATED_PROJECT = prj(2)
KEY_ID = "ACMETEST00000001"


def new_pending(stack, **overrides) -> str:
    """A fresh pending, completed container in the gated project (tests stay independent)."""
    from layers_shared.models.entities import Container, Media
    from layers_shared.store import items

    cid = f"cnt_{uuid.uuid4()}"
    data = dict(id=cid, projectId=GATED_PROJECT, organizationId="org_11111111-1111-4111-8111-111111111111",
                status="completed", approvalStatus="pending", mediaType="video", caption="gated",
                media=[Media(url="https://media.example.com/v.mp4", kind="video")])
    data.update(overrides)
    stack.table.put(items.to_item(Container(**data)))
    return cid


def set_account_status(stack, account_id: str, status: str) -> None:
    from layers_shared.store import keys

    stack.table.update(keys.social_account(account_id), "SET #s = :s", names={"#s": "status"}, values={":s": status})


@pytest.fixture
def gated_account_reauth(stack):
    set_account_status(stack, GATED_ACCOUNT, "reauth_required")
    yield
    set_account_status(stack, GATED_ACCOUNT, "connected")


def post_rows(stack, post_ids: list[str]) -> list[dict]:
    from layers_shared.store import keys

    return [row for row in (stack.table.get(keys.scheduled_post(i), consistent=True) for i in post_ids) if row]


def approve(api, container: str, body=None, **kw):
    return api.post(f"/v1/content/{container}/approve", body, **kw)


def reject(api, container: str, reason: str = "off-brand", **kw):
    return api.post(f"/v1/content/{container}/reject", {"reason": reason}, **kw)


TARGETS = [{"socialAccountId": GATED_ACCOUNT, "mode": "publish"}, {"socialAccountId": GATED_ACCOUNT, "mode": "draft"}]


# -- Done means ------------------------------------------------------------------------------

def test_stash_is_invisible_until_approve_promotes_the_same_ids(api, stack):
    container = new_pending(stack)
    when = future(30)
    stashed = api.schedule(container, TARGETS, when)
    assert stashed.status == 202, stashed.body
    assert stashed.body["gateStatus"] == "blocked_on_approval" and stashed.body["scheduledFor"] == when
    post_ids = stashed.body["scheduledPostIds"]
    assert len(post_ids) == 2
    for post_id in post_ids:
        assert_envelope(api.get(f"/v1/scheduled-posts/{post_id}"), 404, "NOT_FOUND")
    assert api.get(f"/v1/content/{container}").body["pendingSchedule"]["scheduledPostIds"] == post_ids

    reply = approve(api, container, {"note": "looks great"})
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["id"] == container and body["approvalStatus"] == "approved"
    assert body["approvedBy"] == KEY_ID and body["approvedAt"].endswith("Z")
    assert body["pendingSchedulePromotion"] == {"status": "ok", "scheduledPostIds": post_ids}
    for post_id in post_ids:
        got = api.get(f"/v1/scheduled-posts/{post_id}")
        assert got.status == 200, got.body
        assert got.body["status"] == "queued" and got.body["scheduledFor"] == when
        assert got.body["containerId"] == container
    content = api.get(f"/v1/content/{container}").body
    assert content["approvalStatus"] == "approved" and content["pendingSchedule"] is None
    assert content["approvedBy"] == KEY_ID


def test_publish_now_while_pending_is_403_and_writes_nothing(api, stack):
    details = assert_envelope(api.post(f"/v1/content/{PENDING_2}/publish", {"targets": TARGETS[:1]}),
                              403, "APPROVAL_REQUIRED")
    assert details == {"containerId": PENDING_2, "approvalStatus": "pending"}


def test_reject_then_schedule_and_publish_answer_content_rejected(api, stack):
    container = new_pending(stack)
    stashed = api.schedule(container, TARGETS[:1])
    assert stashed.status == 202
    reply = reject(api, container, "wrong logo")
    assert reply.status == 200, reply.body
    assert reply.body["approvalStatus"] == "rejected" and reply.body["rejectionReason"] == "wrong logo"
    assert reply.body["rejectedBy"] == KEY_ID and reply.body["rejectedAt"].endswith("Z")
    assert reply.body["droppedScheduledPostIds"] == stashed.body["scheduledPostIds"]
    assert api.get(f"/v1/content/{container}").body["pendingSchedule"] is None
    assert_envelope(api.schedule(container, TARGETS[:1]), 409, "CONTENT_REJECTED")
    assert_envelope(api.post(f"/v1/content/{container}/publish", {"targets": TARGETS[:1]}), 409, "CONTENT_REJECTED")
    assert_envelope(approve(api, container), 409, "CONTENT_REJECTED")
    assert post_rows(stack, stashed.body["scheduledPostIds"]) == []


def test_promotion_whose_target_lost_readiness_fails_with_zero_rows(api, stack, gated_account_reauth):
    container = new_pending(stack)
    # The stash is accepted while the account is ready ...
    set_account_status(stack, GATED_ACCOUNT, "connected")
    stashed = api.schedule(container, TARGETS)
    assert stashed.status == 202, stashed.body
    # ... then it needs re-authorization before anyone approves.
    set_account_status(stack, GATED_ACCOUNT, "reauth_required")
    reply = approve(api, container)
    assert reply.status == 200, reply.body
    block = reply.body["pendingSchedulePromotion"]
    assert block["status"] == "failed"
    assert block["reason"] == "SOCIAL_ACCOUNT_NOT_PUBLISH_READY"
    assert block["details"]["socialAccountId"] == GATED_ACCOUNT and block["details"]["reason"] == "status:reauth_required"
    assert block["message"]
    assert reply.body["approvalStatus"] == "approved"
    assert post_rows(stack, stashed.body["scheduledPostIds"]) == []
    for post_id in stashed.body["scheduledPostIds"]:
        assert_envelope(api.get(f"/v1/scheduled-posts/{post_id}"), 404, "NOT_FOUND")
    content = api.get(f"/v1/content/{container}").body
    assert content["approvalStatus"] == "approved" and content["pendingSchedule"] is None


def test_promotion_whose_id_was_taken_fails_with_zero_rows(api, stack):
    container = new_pending(stack)
    taken = f"sp_{uuid.uuid4()}"
    free = f"sp_{uuid.uuid4()}"
    stashed = api.schedule(container, [{**TARGETS[0], "scheduledPostId": free},
                                       {**TARGETS[1], "scheduledPostId": taken}])
    assert stashed.status == 202, stashed.body
    # Someone else uses one of the promised ids before approval.
    elsewhere = api.schedule(VIDEO, [{"socialAccountId": "sa_55555555-5555-4555-8555-000000000001",
                                      "mode": "publish", "scheduledPostId": taken}])
    assert elsewhere.status == 200, elsewhere.body
    reply = approve(api, container)
    assert reply.status == 200, reply.body
    block = reply.body["pendingSchedulePromotion"]
    assert block["status"] == "failed" and block["reason"] == "CONFLICT_DUPLICATE_ID"
    assert block["details"]["scheduledPostIds"] == [taken]
    assert post_rows(stack, [free]) == []
    assert post_rows(stack, [taken])[0]["containerId"] == VIDEO  # the other row is untouched
    assert api.get(f"/v1/content/{container}").body["approvalStatus"] == "approved"


def test_promotion_whose_account_is_gone_fails_with_not_found(api, stack):
    from layers_shared.store import keys

    container = new_pending(stack)
    gone = "sa_55555555-5555-4555-8555-000000000777"
    from layers_shared.models.entities import SocialAccount
    from layers_shared.store import items
    stack.table.put(items.to_item(SocialAccount(
        id=gone, projectId=GATED_PROJECT, organizationId="org_11111111-1111-4111-8111-111111111111",
        platform="tiktok", handle="soon.gone", grantedScopes=["video.publish"], connectedAt="2026-01-01T00:00:00.000Z")))
    stashed = api.schedule(container, [{"socialAccountId": gone, "mode": "publish"}])
    assert stashed.status == 202, stashed.body
    stack.table.delete(keys.social_account(gone))
    block = approve(api, container).body["pendingSchedulePromotion"]
    assert block["status"] == "failed" and block["reason"] == "NOT_FOUND"
    assert block["details"] == {"socialAccountId": gone}
    assert post_rows(stack, stashed.body["scheduledPostIds"]) == []


def test_approving_twice_is_harmless(api, stack):
    container = new_pending(stack)
    stashed = api.schedule(container, TARGETS[:1])
    first = approve(api, container)
    assert first.body["pendingSchedulePromotion"]["status"] == "ok"
    second = approve(api, container, {"note": "again"})
    assert second.status == 200, second.body
    assert second.body == {**first.body, "pendingSchedulePromotion": None}
    rows = post_rows(stack, stashed.body["scheduledPostIds"])
    assert len(rows) == 1 and rows[0]["status"] == "queued"


def test_idempotent_replay_of_approve(api, stack):
    container = new_pending(stack)
    stashed = api.schedule(container, TARGETS[:1])
    key = str(uuid.uuid4())
    first = approve(api, container, {"note": "ok"}, headers={"Idempotency-Key": key})
    replay = approve(api, container, {"note": "ok"}, headers={"Idempotency-Key": key})
    assert first.status == replay.status == 200
    assert replay.body == first.body and replay.body["pendingSchedulePromotion"]["status"] == "ok"
    assert replay.header("Idempotent-Replayed") == "true" and first.header("Idempotent-Replayed") is None
    assert replay.header("X-Request-Id") != first.header("X-Request-Id")
    assert len(post_rows(stack, stashed.body["scheduledPostIds"])) == 1
    other = approve(api, container, {"note": "different"}, headers={"Idempotency-Key": key})
    assert_envelope(other, 409, "IDEMPOTENCY_CONFLICT")


def test_idempotent_replay_of_reject(api, stack):
    container = new_pending(stack)
    key = str(uuid.uuid4())
    first = reject(api, container, "nope", headers={"Idempotency-Key": key})
    replay = reject(api, container, "nope", headers={"Idempotency-Key": key})
    assert first.status == 200 and replay.body == first.body
    assert replay.header("Idempotent-Replayed") == "true"


# -- approval without a stash, edge states ----------------------------------------------------

def test_approve_without_stash_has_null_block_and_empty_body_is_allowed(api, stack):
    container = new_pending(stack)
    reply = api.post(f"/v1/content/{container}/approve", raw=b"")
    assert reply.status == 200, reply.body
    assert reply.body["pendingSchedulePromotion"] is None
    # Now approved: schedule goes straight to rows.
    scheduled = api.schedule(container, TARGETS[:1])
    assert scheduled.status == 200 and scheduled.body["gateStatus"] == "queued"


def test_stashed_time_in_the_past_publishes_at_once(api, stack):
    from layers_shared import clock
    from layers_shared.scheduling import trigger

    class Recorder:
        def __init__(self) -> None:
            self.posts: list = []

        def schedule(self, posts) -> None:
            self.posts += list(posts)

    container = new_pending(stack)
    stashed = api.schedule(container, TARGETS[:1], future(1))
    assert stashed.status == 202
    recorder, previous = Recorder(), trigger._override
    trigger.use(recorder)
    clock.set_now(clock.now() + timedelta(minutes=30))  # approval comes late
    try:
        reply = approve(api, container)
    finally:
        clock.set_now(None)
        trigger.use(previous)
    assert reply.body["pendingSchedulePromotion"]["status"] == "ok"
    assert [p.id for p in recorder.posts] == stashed.body["scheduledPostIds"]
    row = post_rows(stack, stashed.body["scheduledPostIds"])[0]
    assert row["status"] == "queued" and row["GSI2PK"].startswith("WQ#queued#")


@pytest.mark.parametrize("container,status,code,reason", [
    (IMAGE, 409, "CONFLICT", "NOT_PENDING"),          # not_required
    (REJECTED, 409, "CONTENT_REJECTED", None),
    (f"cnt_{uuid.uuid4()}", 404, "NOT_FOUND", None),
    ("not-an-id", 404, "NOT_FOUND", None),
])
def test_approve_errors(api, container, status, code, reason):
    details = assert_envelope(approve(api, container), status, code)
    if reason:
        assert details["reason"] == reason and details["approvalStatus"] == "not_required"


def test_approve_needs_a_completed_container(api, stack):
    container = new_pending(stack, status="processing")
    details = assert_envelope(approve(api, container), 409, "CONFLICT")
    assert details["reason"] == "CONTENT_NOT_READY"


def test_another_orgs_container_is_404(api, stack):
    container = new_pending(stack)
    assert_envelope(approve(api, container, key=OTHER_ORG_KEY), 404, "NOT_FOUND")
    assert_envelope(reject(api, container, key=OTHER_ORG_KEY), 404, "NOT_FOUND")
    assert api.get(f"/v1/content/{container}").body["approvalStatus"] == "pending"


def test_scope_content_approve_is_required(api, stack):
    container = new_pending(stack)
    for reply in (approve(api, container, key=READ_KEY), reject(api, container, key=READ_KEY)):
        assert assert_envelope(reply, 403, "FORBIDDEN_SCOPE") == {"requiredScope": "content:approve"}


@pytest.mark.parametrize("body,path", [
    ({"note": "x" * 1025}, "note"),
    ({"note": 5}, "note"),
    ({"notes": "typo"}, "notes"),
    ([], ""),
])
def test_approve_body_validation(api, stack, body, path):
    container = new_pending(stack)
    details = assert_envelope(approve(api, container, body), 422, "VALIDATION")
    assert details["issues"][0]["path"] == path
    assert api.get(f"/v1/content/{container}").body["approvalStatus"] == "pending"


@pytest.mark.parametrize("body,path", [
    (None, ""),
    ({}, "reason"),
    ({"reason": ""}, "reason"),
    ({"reason": "x" * 1025}, "reason"),
    ({"reason": "ok", "extra": 1}, "extra"),
])
def test_reject_body_validation(api, stack, body, path):
    container = new_pending(stack)
    details = assert_envelope(api.post(f"/v1/content/{container}/reject", body), 422, "VALIDATION")
    assert details["issues"][0]["path"] == path


def test_rejecting_twice_keeps_the_first_decision(api, stack):
    container = new_pending(stack)
    first = reject(api, container, "first")
    second = reject(api, container, "second")
    assert second.status == 200
    assert second.body == {**first.body, "droppedScheduledPostIds": []}
    assert second.body["rejectionReason"] == "first"


def test_rejecting_approved_or_not_required_content_is_409(api, stack):
    container = new_pending(stack)
    assert approve(api, container).status == 200
    details = assert_envelope(reject(api, container), 409, "CONFLICT")
    assert details["reason"] == "NOT_PENDING" and details["approvalStatus"] == "approved"
    details = assert_envelope(reject(api, VIDEO), 409, "CONFLICT")
    assert details["approvalStatus"] == "not_required"


def test_reject_of_processing_content_is_allowed(api, stack):
    container = new_pending(stack, status="processing")
    reply = reject(api, container)
    assert reply.status == 200 and reply.body["approvalStatus"] == "rejected"


def test_seed_pending_container_round_trip(api):
    """The fixture's own pending container, end to end with KEY."""
    stashed = api.schedule(PENDING, TARGETS[:1])
    assert stashed.status == 202
    reply = approve(api, PENDING, key=KEY)
    assert reply.body["pendingSchedulePromotion"]["scheduledPostIds"] == stashed.body["scheduledPostIds"]


def test_a_stash_replaced_after_approve_read_it_is_promoted_not_dropped(api, stack, monkeypatch):
    """Approve read stash A; a second schedule replaced it with B before the
    transaction: the condition on the stash makes approve read again and
    promote B (the ids the latest 202 promised)."""
    from layers_shared.services import approval as service
    from layers_shared.store import repo

    container = new_pending(stack)
    first = api.schedule(container, TARGETS[:1])
    stale = repo.container_of(stack.table, "org_11111111-1111-4111-8111-111111111111", container, container)
    second = api.schedule(container, TARGETS)
    assert first.status == second.status == 202
    reads = []

    def stale_once(*args, **kwargs):
        reads.append(1)
        return stale

    monkeypatch.setattr(service.queries, "get_content", stale_once)  # approve's first read of the container
    reply = approve(api, container)
    assert len(reads) == 1
    assert reply.body["pendingSchedulePromotion"] == {"status": "ok",
                                                      "scheduledPostIds": second.body["scheduledPostIds"]}
    assert post_rows(stack, first.body["scheduledPostIds"]) == []
    assert len(post_rows(stack, second.body["scheduledPostIds"])) == 2
