"""POST /v1/scheduled-posts/{id}/reschedule over HTTP against the local stack."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from layers_shared.store import keys
from tests.support import (
    FOREIGN_CONTAINER, INSTAGRAM, OTHER_ORG_KEY, READ_KEY, TIKTOK, WRITE_KEY, assert_envelope, force_post_status,
    future, past, schedule_posts,
)


def _path(post_id: str) -> str:
    return f"/v1/scheduled-posts/{post_id}/reschedule"


def _new_post(api, minutes: float = 30) -> str:
    return schedule_posts(api, [{"socialAccountId": TIKTOK, "mode": "publish"}], when=future(minutes))[0]


def _stored(stack, post_id: str) -> dict:
    return stack.table.get(keys.scheduled_post(post_id), consistent=True)


def test_reschedule_moves_the_post_and_its_index_keys(api, stack):
    post_id = _new_post(api)
    before = _stored(stack, post_id)
    when = future(90)
    reply = api.post(_path(post_id), {"scheduledFor": when})
    assert reply.status == 200, reply.body
    assert reply.body["id"] == post_id and reply.body["status"] == "queued"
    assert reply.body["scheduledFor"] == when
    assert set(reply.body) == {"id", "status", "scheduledFor", "updatedAt"}
    updated = datetime.fromisoformat(reply.body["updatedAt"].replace("Z", "+00:00"))
    assert abs(updated - datetime.now(timezone.utc)) < timedelta(seconds=10)

    got = api.get(f"/v1/scheduled-posts/{post_id}")
    assert got.body["scheduledFor"] == when and got.body["status"] == "queued"
    assert got.body["updatedAt"] == reply.body["updatedAt"]

    after = _stored(stack, post_id)
    assert after["scheduledFor"].startswith(when[:-1]) and after["scheduledFor"] != before["scheduledFor"]
    assert after["GSI3SK"] == f"{after['scheduledFor']}#{post_id}"  # moved in the listing
    assert "GSI1PK" not in after  # the listing is not on GSI1 (docs/adr/0043)
    assert after["GSI2SK"] == f"{after['scheduledFor']}#{post_id}"
    assert after["GSI2PK"] == before["GSI2PK"]  # same shard, still queued


def test_offsets_are_normalized_to_utc(api):
    post_id = _new_post(api)
    local = (datetime.now(timezone(timedelta(hours=2))) + timedelta(hours=1)).replace(microsecond=0)
    reply = api.post(_path(post_id), {"scheduledFor": local.isoformat()})
    assert reply.status == 200, reply.body
    assert reply.body["scheduledFor"] == local.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_bare_uuid_path_is_accepted(api):
    post_id = _new_post(api)
    reply = api.post(_path(post_id.removeprefix("sp_")), {"scheduledFor": future(45)})
    assert reply.status == 200 and reply.body["id"] == post_id


@pytest.mark.parametrize("body,path,code", [
    ({"scheduledFor": past(5)}, "scheduledFor", "in_past"),
    ({"scheduledFor": "2030-01-01T10:00:00"}, "scheduledFor", "naive_datetime"),
    ({"scheduledFor": "tomorrow"}, "scheduledFor", "invalid_datetime"),
    ({"scheduledFor": 1767225600}, "scheduledFor", "invalid_type"),
    ({}, "scheduledFor", "required"),
    ({"scheduledFor": (datetime.now(timezone.utc) + timedelta(days=366)).strftime("%Y-%m-%dT%H:%M:%SZ")},
     "scheduledFor", "too_far"),
])
def test_bad_scheduled_for_is_422(api, body, path, code):
    post_id = _new_post(api)
    details = assert_envelope(api.post(_path(post_id), body), 422, "VALIDATION")
    assert details["issues"][0]["path"] == path and details["issues"][0]["code"] == code
    assert api.get(f"/v1/scheduled-posts/{post_id}").body["status"] == "queued"


def test_unknown_fields_and_non_objects_are_422(api):
    post_id = _new_post(api)
    details = assert_envelope(api.post(_path(post_id), {"scheduledFor": future(40), "caption": "new"}), 422,
                              "VALIDATION")
    assert details["issues"] == [{"path": "caption", "code": "unknown_field", "message": "unknown field"}]
    details = assert_envelope(api.post(_path(post_id), raw=b"[1]"), 422, "VALIDATION")
    assert details["issues"][0]["path"] == ""
    details = assert_envelope(api.post(_path(post_id), raw=b""), 422, "VALIDATION")
    assert details["issues"][0]["path"] == ""


def test_a_time_within_the_skew_is_accepted(api):
    post_id = _new_post(api)
    when = (datetime.now(timezone.utc) - timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = api.post(_path(post_id), {"scheduledFor": when})
    assert reply.status == 200 and reply.body["scheduledFor"] == when


@pytest.mark.parametrize("status,reason", [
    ("publishing", "ALREADY_PUBLISHING"), ("published", "NOT_QUEUED"), ("draft", "NOT_QUEUED"),
    ("failed", "NOT_QUEUED"), ("canceled", "NOT_QUEUED"),
])
def test_only_queued_posts_reschedule(api, stack, status, reason):
    post_id = _new_post(api)
    force_post_status(stack, post_id, status)
    before = _stored(stack, post_id)
    details = assert_envelope(api.post(_path(post_id), {"scheduledFor": future(120)}), 409, "CONFLICT")
    assert details["reason"] == reason and details["scheduledPostId"] == post_id and details["status"] == status
    assert _stored(stack, post_id) == before


def test_reschedule_after_cancel_is_not_queued(api):
    post_id = _new_post(api)
    assert api.delete(f"/v1/scheduled-posts/{post_id}").status == 200
    details = assert_envelope(api.post(_path(post_id), {"scheduledFor": future(50)}), 409, "CONFLICT")
    assert details["reason"] == "NOT_QUEUED"


def test_idempotent_replay_returns_the_first_answer(api):
    post_id = _new_post(api)
    key = str(uuid.uuid4())
    first = api.post(_path(post_id), {"scheduledFor": future(60)}, headers={"Idempotency-Key": key})
    assert first.status == 200 and first.header("Idempotent-Replayed") is None
    again = api.post(_path(post_id), {"scheduledFor": first.body["scheduledFor"]}, headers={"Idempotency-Key": key})
    assert again.status == 200 and again.body == first.body
    assert again.header("Idempotent-Replayed") == "true"
    assert again.header("X-Request-Id") != first.header("X-Request-Id")
    other = api.post(_path(post_id), {"scheduledFor": future(70)}, headers={"Idempotency-Key": key})
    assert_envelope(other, 409, "IDEMPOTENCY_CONFLICT")


def test_a_stored_409_replays_too(api, stack):
    post_id = _new_post(api)
    force_post_status(stack, post_id, "published")
    key = str(uuid.uuid4())
    body = {"scheduledFor": future(60)}
    first = api.post(_path(post_id), body, headers={"Idempotency-Key": key})
    assert first.status == 409
    again = api.post(_path(post_id), body, headers={"Idempotency-Key": key})
    assert again.status == 409 and again.body == first.body and again.header("Idempotent-Replayed") == "true"


def test_tenancy_and_unknown_ids_are_404(api):
    post_id = _new_post(api)
    body = {"scheduledFor": future(80)}
    for reply in (
        api.post(_path(post_id), body, key=OTHER_ORG_KEY),
        api.post(_path("sp_" + str(uuid.uuid4())), body),
        api.post(_path("not-an-id"), body),
        api.post(_path(FOREIGN_CONTAINER), body),
    ):
        assert_envelope(reply, 404, "NOT_FOUND")
    assert api.get(f"/v1/scheduled-posts/{post_id}").body["status"] == "queued"


def test_foreign_post_is_404_not_409(api, stack):
    other = schedule_posts(api, [{"socialAccountId": INSTAGRAM, "mode": "publish"}], when=future(30))[0]
    force_post_status(stack, other, "publishing")
    assert_envelope(api.post(_path(other), {"scheduledFor": future(80)}, key=OTHER_ORG_KEY), 404, "NOT_FOUND")


def test_auth_and_scope(api):
    post_id = _new_post(api)
    body = {"scheduledFor": future(80)}
    assert_envelope(api.post(_path(post_id), body, key=None), 401, "UNAUTHENTICATED")
    assert_envelope(api.post(_path(post_id), body, key="lp_test_nope"), 401, "UNAUTHENTICATED")
    details = assert_envelope(api.post(_path(post_id), body, key=READ_KEY), 403, "FORBIDDEN_SCOPE")
    assert details["requiredScope"] == "publish:write"
    assert api.post(_path(post_id), body, key=WRITE_KEY).status == 200


def test_the_old_time_does_not_publish_a_rescheduled_post(api):
    """Moved from "in two seconds" to later: the first slot fires (its sibling
    publishes) and leaves the moved post alone."""
    when = (datetime.now(timezone.utc) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    moved, control = schedule_posts(api, [{"socialAccountId": TIKTOK, "mode": "publish"},
                                          {"socialAccountId": INSTAGRAM, "mode": "publish"}], when=when)
    assert api.post(_path(moved), {"scheduledFor": future(30)}).status == 200
    deadline = time.monotonic() + 8
    while api.get(f"/v1/scheduled-posts/{control}").body["status"] != "published":
        assert time.monotonic() < deadline, "the sibling post was never published"
        time.sleep(0.2)
    got = api.get(f"/v1/scheduled-posts/{moved}").body
    assert got["status"] == "queued" and got["attemptedAt"] is None


def test_rescheduled_to_now_publishes_at_the_new_time(api):
    post_id = _new_post(api, minutes=30)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.post(_path(post_id), {"scheduledFor": now}).status == 200
    deadline = time.monotonic() + 6
    while api.get(f"/v1/scheduled-posts/{post_id}").body["status"] != "published":
        assert time.monotonic() < deadline, "a post rescheduled to now was not published within 6 s"
        time.sleep(0.2)
