"""POST /v1/content/{containerId}/publish over HTTP against the local stack."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

from layers_shared.store import keys
from tests.support import (
    FOREIGN, FOREIGN_CONTAINER, IMAGE, INSTAGRAM, OTHER_ORG_KEY, PENDING, PROCESSING, READ_KEY, REAUTH, REJECTED, TIKTOK,
    VIDEO, WRITE_KEY, assert_envelope, future, prj, project_post_rows, sa,
)


def _path(container: str) -> str:
    return f"/v1/content/{container}/publish"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_publish_now_queues_rows_at_now(api):
    targets = [{"socialAccountId": TIKTOK, "mode": "publish"}, {"socialAccountId": INSTAGRAM, "mode": "publish"}]
    reply = api.post(_path(VIDEO), {"targets": targets})
    assert reply.status == 200, reply.body
    assert reply.body["gateStatus"] == "queued"
    assert len(reply.body["scheduledPostIds"]) == 2
    assert abs(_instant(reply.body["scheduledFor"]) - datetime.now(timezone.utc)) < timedelta(seconds=10)
    for post_id, target in zip(reply.body["scheduledPostIds"], targets):
        got = api.get(f"/v1/scheduled-posts/{post_id}")
        assert got.status == 200
        assert got.body["socialAccountId"] == target["socialAccountId"] and got.body["containerId"] == VIDEO
        assert got.body["scheduledFor"] == reply.body["scheduledFor"]
        # The publisher is invoked at once and may already have moved it on.
        assert got.body["status"] in ("queued", "publishing", "published")


def test_publish_now_is_attempted_within_five_seconds(api):
    reply = api.post(_path(VIDEO), {"targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]})
    assert reply.status == 200, reply.body
    [post_id] = reply.body["scheduledPostIds"]
    deadline = time.monotonic() + 5
    while True:
        got = api.get(f"/v1/scheduled-posts/{post_id}").body
        if got["status"] == "published" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert got["status"] == "published", got
    assert got["attemptedAt"] is not None and got["publishedAt"] is not None


def test_scheduled_for_in_the_body_is_an_unknown_field(api):
    body = {"scheduledFor": future(), "targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}
    details = assert_envelope(api.post(_path(VIDEO), body), 422, "VALIDATION")
    assert {"path": "scheduledFor", "code": "unknown_field", "message": "unknown field"} in details["issues"]


def test_pending_gated_container_is_approval_required(api, stack):
    reply = api.post(_path(PENDING), {"targets": [{"socialAccountId": sa(9), "mode": "publish"}]})
    details = assert_envelope(reply, 403, "APPROVAL_REQUIRED")
    assert details["containerId"] == PENDING and details["approvalStatus"] == "pending"
    # Nothing stashed, nothing written: publish-now never waits for approval.
    assert "pendingSchedule" not in stack.table.get(keys.container(PENDING), consistent=True)
    assert _posts_of_project(stack, prj(2)) == []


def test_rejected_container_is_content_rejected(api):
    reply = api.post(_path(REJECTED), {"targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]})
    assert_envelope(reply, 409, "CONTENT_REJECTED")


def test_container_not_ready_is_conflict(api):
    reply = api.post(_path(PROCESSING), {"targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]})
    assert assert_envelope(reply, 409, "CONFLICT")["reason"] == "CONTENT_NOT_READY"


def test_51_targets_is_422_and_writes_nothing(api, stack):
    before = len(_posts_of_project(stack, prj(1)))
    targets = [{"socialAccountId": TIKTOK, "mode": "publish"} for _ in range(51)]
    details = assert_envelope(api.post(_path(VIDEO), {"targets": targets}), 422, "VALIDATION")
    assert details["issues"][0]["path"] == "targets" and details["issues"][0]["code"] == "too_many"
    assert len(_posts_of_project(stack, prj(1))) == before


def test_a_bad_target_fails_the_whole_batch(api, stack):
    before = len(_posts_of_project(stack, prj(1)))
    targets = [{"socialAccountId": TIKTOK, "mode": "publish"}, {"socialAccountId": REAUTH, "mode": "publish"}]
    details = assert_envelope(api.post(_path(VIDEO), {"targets": targets}), 422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY")
    assert details["socialAccountId"] == REAUTH
    assert len(_posts_of_project(stack, prj(1))) == before


def test_idempotent_replay_returns_the_same_ids(api, stack):
    key = str(uuid.uuid4())
    body = {"targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}
    first = api.post(_path(VIDEO), body, headers={"Idempotency-Key": key})
    assert first.status == 200
    before = len(_posts_of_project(stack, prj(1)))
    again = api.post(_path(VIDEO), body, headers={"Idempotency-Key": key})
    assert again.status == 200 and again.body == first.body and again.header("Idempotent-Replayed") == "true"
    assert len(_posts_of_project(stack, prj(1))) == before
    # The same key on another container is another request.
    assert_envelope(api.post(_path(IMAGE), body, headers={"Idempotency-Key": key}),
                    409, "IDEMPOTENCY_CONFLICT")


def test_tenancy(api):
    body = {"targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}
    assert_envelope(api.post(_path(VIDEO), body, key=OTHER_ORG_KEY), 404, "NOT_FOUND")
    assert_envelope(api.post(_path(FOREIGN_CONTAINER), body), 404, "NOT_FOUND")
    assert_envelope(api.post(_path("cnt_nope"), body), 404, "NOT_FOUND")
    foreign_account = {"targets": [{"socialAccountId": FOREIGN, "mode": "publish"}]}
    assert_envelope(api.post(_path(VIDEO), foreign_account), 404, "NOT_FOUND")


def test_bare_uuid_container(api):
    reply = api.post(_path(VIDEO.removeprefix("cnt_")), {"targets": [{"socialAccountId": TIKTOK, "mode": "draft"}]})
    assert reply.status == 200, reply.body


def test_auth_and_scope(api):
    body = {"targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}
    assert_envelope(api.post(_path(VIDEO), body, key=None), 401, "UNAUTHENTICATED")
    details = assert_envelope(api.post(_path(VIDEO), body, key=READ_KEY), 403, "FORBIDDEN_SCOPE")
    assert details["requiredScope"] == "publish:write"
    assert api.post(_path(VIDEO), body, key=WRITE_KEY).status == 200


def _posts_of_project(stack, project_id: str) -> list[dict]:
    return project_post_rows(stack.table, project_id)
