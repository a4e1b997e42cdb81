"""DELETE /v1/scheduled-posts/{id} over HTTP against the local stack."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from layers_shared.store import keys
from tests.support import (
    INSTAGRAM, OTHER_ORG_KEY, READ_KEY, TIKTOK, WRITE_KEY, assert_envelope, force_post_status, future, schedule_posts,
)


def _path(post_id: str) -> str:
    return f"/v1/scheduled-posts/{post_id}"


def _new_post(api) -> str:
    return schedule_posts(api, [{"socialAccountId": TIKTOK, "mode": "publish"}], when=future(30))[0]


def _stored(stack, post_id: str) -> dict:
    return stack.table.get(keys.scheduled_post(post_id), consistent=True)


def test_cancel_keeps_the_row_and_leaves_the_work_queue(api, stack):
    post_id = _new_post(api)
    assert "GSI2PK" in _stored(stack, post_id)
    reply = api.delete(_path(post_id), {"reason": "campaign paused"})
    assert reply.status == 200, reply.body
    assert reply.body["id"] == post_id and reply.body["status"] == "canceled"
    assert set(reply.body) == {"id", "status", "canceledAt"}
    canceled_at = datetime.fromisoformat(reply.body["canceledAt"].replace("Z", "+00:00"))
    assert abs(canceled_at - datetime.now(timezone.utc)) < timedelta(seconds=10)

    got = api.get(_path(post_id))
    assert got.status == 200
    assert got.body["status"] == "canceled" and got.body["canceledAt"] == reply.body["canceledAt"]
    assert got.body["updatedAt"] == reply.body["canceledAt"]

    row = _stored(stack, post_id)
    assert row["cancelReason"] == "campaign paused"
    assert "GSI2PK" not in row and "GSI2SK" not in row  # the sweeper cannot see it any more
    assert row["GSI3SK"].endswith(post_id)  # still listed


@pytest.mark.parametrize("raw", [None, b"", b"{}", b'{"reason": null}'])
def test_the_body_is_optional(api, stack, raw):
    post_id = _new_post(api)
    reply = api.call("DELETE", _path(post_id), raw=raw)
    assert reply.status == 200, reply.body
    assert "cancelReason" not in _stored(stack, post_id)


def test_bare_uuid_path_is_accepted(api):
    post_id = _new_post(api)
    reply = api.delete(_path(post_id.removeprefix("sp_")))
    assert reply.status == 200 and reply.body["id"] == post_id


@pytest.mark.parametrize("body,path,code", [
    ({"reason": "x" * 1025}, "reason", "too_long"),
    ({"reason": 42}, "reason", "invalid_type"),
    ({"why": "x"}, "why", "unknown_field"),
])
def test_bad_bodies_are_422(api, body, path, code):
    post_id = _new_post(api)
    details = assert_envelope(api.delete(_path(post_id), body), 422, "VALIDATION")
    assert details["issues"][0]["path"] == path and details["issues"][0]["code"] == code
    assert api.get(_path(post_id)).body["status"] == "queued"


def test_a_reason_of_exactly_1024_characters_is_kept(api, stack):
    post_id = _new_post(api)
    assert api.delete(_path(post_id), {"reason": "y" * 1024}).status == 200
    assert _stored(stack, post_id)["cancelReason"] == "y" * 1024


@pytest.mark.parametrize("raw", [b"not json", b"[]", b"null"])
def test_non_object_bodies_are_422_at_the_root(api, raw):
    post_id = _new_post(api)
    details = assert_envelope(api.call("DELETE", _path(post_id), raw=raw), 422, "VALIDATION")
    assert details["issues"][0]["path"] == ""


@pytest.mark.parametrize("status,reason", [
    ("publishing", "ALREADY_PUBLISHING"), ("published", "NOT_QUEUED"), ("draft", "NOT_QUEUED"),
    ("failed", "NOT_QUEUED"),
])
def test_only_queued_posts_cancel(api, stack, status, reason):
    post_id = _new_post(api)
    force_post_status(stack, post_id, status)
    before = _stored(stack, post_id)
    details = assert_envelope(api.delete(_path(post_id)), 409, "CONFLICT")
    assert details["reason"] == reason and details["status"] == status
    assert _stored(stack, post_id) == before


def test_cancel_twice_without_a_key_is_not_queued(api):
    post_id = _new_post(api)
    assert api.delete(_path(post_id)).status == 200
    details = assert_envelope(api.delete(_path(post_id)), 409, "CONFLICT")
    assert details["reason"] == "NOT_QUEUED" and details["status"] == "canceled"


def test_idempotent_replay_returns_the_first_answer(api):
    post_id = _new_post(api)
    key = str(uuid.uuid4())
    first = api.delete(_path(post_id), {"reason": "dup"}, headers={"Idempotency-Key": key})
    assert first.status == 200 and first.header("Idempotent-Replayed") is None
    again = api.delete(_path(post_id), {"reason": "dup"}, headers={"Idempotency-Key": key})
    assert again.status == 200 and again.body == first.body
    assert again.header("Idempotent-Replayed") == "true"
    assert_envelope(api.delete(_path(post_id), {"reason": "other"}, headers={"Idempotency-Key": key}),
                    409, "IDEMPOTENCY_CONFLICT")


def test_empty_body_and_empty_object_share_a_fingerprint(api):
    post_id = _new_post(api)
    key = str(uuid.uuid4())
    first = api.call("DELETE", _path(post_id), raw=b"", headers={"Idempotency-Key": key})
    assert first.status == 200
    again = api.delete(_path(post_id), {}, headers={"Idempotency-Key": key})
    assert again.status == 200 and again.body == first.body and again.header("Idempotent-Replayed") == "true"


def test_tenancy_and_unknown_ids_are_404(api):
    post_id = _new_post(api)
    for reply in (
        api.delete(_path(post_id), key=OTHER_ORG_KEY),
        api.delete(_path("sp_" + str(uuid.uuid4()))),
        api.delete(_path("sp_nope")),
        api.delete(_path(post_id.replace("sp_", "cnt_"))),
    ):
        assert_envelope(reply, 404, "NOT_FOUND")
    assert api.get(_path(post_id)).body["status"] == "queued"


def test_auth_and_scope(api):
    post_id = _new_post(api)
    assert_envelope(api.delete(_path(post_id), key=None), 401, "UNAUTHENTICATED")
    details = assert_envelope(api.delete(_path(post_id), key=READ_KEY), 403, "FORBIDDEN_SCOPE")
    assert details["requiredScope"] == "publish:write"
    assert api.get(_path(post_id)).body["status"] == "queued"
    assert api.delete(_path(post_id), key=WRITE_KEY).status == 200


def test_a_canceled_post_never_publishes(api):
    """Canceled a moment before it is due: the slot still fires (its sibling
    publishes), the publisher finds nothing queued, no sandbox delivery."""
    canceled, control = schedule_posts(api, [{"socialAccountId": TIKTOK, "mode": "publish"},
                                             {"socialAccountId": INSTAGRAM, "mode": "publish"}],
                                       when=_due_in(seconds=2))
    assert api.delete(_path(canceled)).status == 200
    deadline = time.monotonic() + 8
    while api.get(_path(control)).body["status"] != "published":
        assert time.monotonic() < deadline, "the sibling post was never published"
        time.sleep(0.2)
    assert api.get(_path(canceled)).body["status"] == "canceled"
    delivered = {d.get("scheduledPostId") for d in api.get("/_local/sandbox/deliveries", key=None).body["items"]}
    assert control in delivered and canceled not in delivered


def _due_in(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_concurrent_cancels_succeed_exactly_once(api):
    post_id = _new_post(api)
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: api.delete(_path(post_id)), range(8)))
    assert sorted(r.status for r in replies) == [200] + [409] * 7
    assert {r.details["reason"] for r in replies if r.status == 409} == {"NOT_QUEUED"}
    winner = next(r for r in replies if r.status == 200)
    assert api.get(_path(post_id)).body["canceledAt"] == winner.body["canceledAt"]
