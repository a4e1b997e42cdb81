"""Contract review: answers the documents fix that no other test pinned down.

Each test names the rule it holds the code to (decisions.md / the seeds)."""
from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from tests.support import (
    GATED_ACCOUNT, PENDING, PENDING_2, TIKTOK, VIDEO, assert_envelope, future, prj, schedule_posts,
)

# Instants that match the ISO 8601 shape but fall outside what a datetime can
# hold once moved to UTC: "no input producing a 500" (decisions.md, Errors).
OUT_OF_RANGE_INSTANTS = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59"]
LAST_INSTANT = "9999-12-31T23:59:59.9999999Z"


@pytest.mark.parametrize("when", OUT_OF_RANGE_INSTANTS)
def test_schedule_with_an_instant_outside_the_calendar_is_422_at_scheduledFor(api, when):
    reply = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}], when)
    details = assert_envelope(reply, 422, "VALIDATION")
    assert details["issues"][0]["path"] == "scheduledFor"


@pytest.mark.parametrize("when", OUT_OF_RANGE_INSTANTS)
def test_reschedule_with_an_instant_outside_the_calendar_is_422_at_scheduledFor(api, when):
    post_id = schedule_posts(api, [{"socialAccountId": TIKTOK, "mode": "publish"}])[0]
    reply = api.post(f"/v1/scheduled-posts/{post_id}/reschedule", {"scheduledFor": when})
    details = assert_envelope(reply, 422, "VALIDATION")
    assert details["issues"][0]["path"] == "scheduledFor"


@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize("when", OUT_OF_RANGE_INSTANTS)
def test_list_filter_with_an_instant_outside_the_calendar_is_422_at_the_filter(api, name, when):
    reply = api.get(f"/v1/projects/{prj(1)}/scheduled-posts?{name}={quote(when)}")
    details = assert_envelope(reply, 422, "VALIDATION")
    assert [i["path"] for i in details["issues"]] == [name]


@pytest.mark.parametrize("name", ["from", "to"])
def test_list_filter_at_the_last_representable_instant_is_answered(api, name):
    reply = api.get(f"/v1/projects/{prj(1)}/scheduled-posts?{name}={quote(LAST_INSTANT)}")
    assert reply.status == 200, reply.body
    assert isinstance(reply.body["items"], list)


# A JSON string escape of a lone UTF-16 surrogate ("\\ud800") is valid JSON text
# but no Unicode string: it cannot be stored, hashed or echoed back as UTF-8.
LONE_SURROGATE_KEY = (b'{"\\ud800": 1, "scheduledFor": "%s", "targets": '
                      b'[{"socialAccountId": "%s", "mode": "publish"}]}')


def test_a_lone_surrogate_in_a_field_name_is_422_with_path_empty(api):
    raw = LONE_SURROGATE_KEY % (future().encode(), TIKTOK.encode())
    reply = api.post(f"/v1/content/{VIDEO}/schedule", raw=raw)
    details = assert_envelope(reply, 422, "VALIDATION")
    assert [i["path"] for i in details["issues"]] == [""]


def test_a_lone_surrogate_under_an_idempotency_key_is_422_not_500(api):
    reply = api.post(f"/v1/content/{PENDING_2}/approve", raw=b'{"note": "\\ud800"}',
                     headers={"Idempotency-Key": "contract-review-surrogate"})
    details = assert_envelope(reply, 422, "VALIDATION")
    assert [i["path"] for i in details["issues"]] == [""]
    again = api.post(f"/v1/content/{PENDING_2}/approve", raw=b'{"note": "\\ud800"}',
                     headers={"Idempotency-Key": "contract-review-surrogate"})
    assert again.status == 422 and again.header("Idempotent-Replayed") == "true"
    assert api.get(f"/v1/content/{PENDING_2}").body["approvalStatus"] == "pending"


def test_a_concurrent_update_409_is_not_replayed_so_the_retry_runs(api, monkeypatch):
    """decisions.md: only final answers are stored. CONCURRENT_UPDATE says
    "retry", so the retry with the same Idempotency-Key must run again."""
    from layers_shared.domain.ports import StaleWrite
    from layers_shared.services import approval

    def always_changed(*_args, **_kwargs):
        raise StaleWrite()  # the container changed under every attempt

    headers = {"Idempotency-Key": "contract-review-concurrent-update"}
    with monkeypatch.context() as patch:
        patch.setattr(approval, "_approve", always_changed)
        first = api.post(f"/v1/content/{PENDING_2}/approve", {}, headers=headers)
    details = assert_envelope(first, 409, "CONFLICT")
    assert details["reason"] == "CONCURRENT_UPDATE"
    retry = api.post(f"/v1/content/{PENDING_2}/approve", {}, headers=headers)
    assert retry.status == 200, retry.body
    assert retry.header("Idempotent-Replayed") is None
    assert retry.body["approvalStatus"] == "approved"


def test_401_and_403_still_name_the_endpoint_class(api):
    """decisions.md / platform.md §4: X-RateLimit-Endpoint-Class is on every answer.
    (401/403 are not counted, so they carry no Limit/Remaining: ADR 0023.)"""
    from tests.support import NO_SCOPE_KEY

    cases = (
        (api.get("/v1/whoami", key=None), 401, "read-light"),
        (api.post(f"/v1/content/{VIDEO}/schedule", {}, key="lp_test_NOPE000000000000_x"), 401, "write-light"),
        (api.get(f"/v1/content/{VIDEO}", key=NO_SCOPE_KEY), 403, "read-light"),
        (api.delete("/v1/scheduled-posts/sp_00000000-0000-4000-8000-000000000000", key=NO_SCOPE_KEY), 403,
         "write-light"),
    )
    for reply, status, endpoint_class in cases:
        assert reply.status == status, reply.body
        assert reply.header("X-RateLimit-Endpoint-Class") == endpoint_class, reply.headers



def fresh_pending_container(stack) -> str:
    """A copy of the fixture's pending container under a new id (tests that decide it)."""
    from layers_shared.store import keys

    item = dict(stack.table.get(keys.container(PENDING)))
    new_id = f"cnt_{uuid.uuid4()}"
    item.update(keys.container(new_id), id=new_id)
    item.pop("pendingSchedule", None)
    stack.table.put(item)
    return new_id


def test_reject_answers_the_reason_under_the_documented_name(api, stack):
    """platform.md §8.3: reject -> {id, approvalStatus: "rejected", rejectedAt, rejectedBy, reason}."""
    container = fresh_pending_container(stack)
    reply = api.post(f"/v1/content/{container}/reject", {"reason": "wrong logo"})
    assert reply.status == 200, reply.body
    assert reply.body["reason"] == "wrong logo"
    assert reply.body["rejectedAt"].endswith("Z") and reply.body["rejectedBy"]
    again = api.post(f"/v1/content/{container}/reject", {"reason": "another"})
    assert again.status == 200 and again.body["reason"] == "wrong logo"



def gated_accounts(stack, count: int) -> list[str]:
    """`count` more ready accounts on the gated project (copies of the fixture's)."""
    from layers_shared.store import keys

    base = dict(stack.table.get(keys.social_account(GATED_ACCOUNT)))
    made = []
    for _ in range(count):
        account_id = f"sa_{uuid.uuid4()}"
        item = {k: v for k, v in base.items() if not k.startswith("GSI")}
        item.update(keys.social_account(account_id), id=account_id)
        stack.table.put(item)
        made.append(account_id)
    return made


def test_a_large_stash_is_accepted_and_promoted_whole(api, stack):
    """50 targets with the longest caption TikTok takes (2200 UTF-16 units of a
    3-byte character; no first comment on TikTok, decisions.md "Platform
    limits"): ~330 KB of stash on a pending container, past what stays inline
    on the container item. It must still be a 202, and approve must promote
    every target with its texts."""
    from layers_shared.store import keys

    container = fresh_pending_container(stack)
    caption, comment = "\u20ac" * 2200, None
    targets = [{"socialAccountId": account, "mode": mode, "captionOverride": caption}
               for account in gated_accounts(stack, 25) for mode in ("publish", "draft")]
    assert len(targets) == 50
    stashed = api.schedule(container, targets, future(60))
    assert stashed.status == 202, stashed.body
    ids = stashed.body["scheduledPostIds"]
    assert api.get(f"/v1/content/{container}").body["pendingSchedule"]["scheduledPostIds"] == ids

    approved = api.post(f"/v1/content/{container}/approve", {})
    assert approved.status == 200, approved.body
    assert approved.body["pendingSchedulePromotion"] == {"status": "ok", "scheduledPostIds": ids}
    for post_id in (ids[0], ids[-1]):
        row = stack.table.get(keys.scheduled_post(post_id))
        assert row["caption"] == caption and row.get("firstComment") == comment
        assert api.get(f"/v1/scheduled-posts/{post_id}").body["status"] == "queued"


def test_a_body_with_thousands_of_unknown_fields_is_a_bounded_422_that_replays(api):
    """Every issue names its path, and a path can be any field name: a body of
    thousands of long unknown names must still be a 4xx in the envelope (small
    enough to answer from Lambda and to keep in the idempotency record)."""
    body = {f"{n:06d}" + "x" * 300: 1 for n in range(5000)}
    body.update(scheduledFor=future(), targets=[{"socialAccountId": TIKTOK, "mode": "publish"}])
    headers = {"Idempotency-Key": "contract-review-many-unknown-fields"}
    reply = api.post(f"/v1/content/{VIDEO}/schedule", body, headers=headers)
    details = assert_envelope(reply, 422, "VALIDATION")
    assert 0 < len(details["issues"]) <= 100
    assert details["issues"][0]["code"] == "unknown_field"
    assert details["issuesOmitted"] == 5000 - len(details["issues"])
    again = api.post(f"/v1/content/{VIDEO}/schedule", body, headers=headers)
    assert again.status == 422 and again.header("Idempotent-Replayed") == "true"
