"""The publishing engine over HTTP against the local stack: the loop fires the
schedules the API really created (moto Scheduler), drains the publish queue
and sweeps; the sandbox records every post it "created"."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.support import (
    FAST_PUBLISHER_TIMINGS, FLAKY, IG_PERSONAL, IMAGE, INSTAGRAM, REJECTS, TIKTOK, UNKNOWN, VIDEO, Client,
    environment,
)

DEADLINE = 5.0  # seed-fixture.md: attempted within 5 s after T
# Lead times below leave room for a slow request on a loaded machine: the API
# schedules a slot only when it is more than 2 s away, and a reschedule or a
# cancel must land before the original time.


@pytest.fixture(scope="module", autouse=True)
def fast_retries():
    """Backoff and polling in seconds instead of minutes (read per invocation)."""
    with environment(**FAST_PUBLISHER_TIMINGS):
        yield

def at(seconds: float) -> str:
    """A whole-second instant `seconds` from now (what a partner sends)."""
    when = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return when.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def schedule(api: Client, account: str, when: str, mode: str = "publish", container: str = VIDEO) -> str:
    reply = api.schedule(container, [{"socialAccountId": account, "mode": mode}], when=when,
                         headers={"Idempotency-Key": str(uuid.uuid4())})
    assert reply.status == 200, reply.body
    return reply.body["scheduledPostIds"][0]


def wait_for(api: Client, post_id: str, statuses: tuple[str, ...] = ("published", "draft", "failed", "canceled"),
             timeout: float = 20.0) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        body = api.get(f"/v1/scheduled-posts/{post_id}").body
        if body["status"] in statuses or time.monotonic() > end:
            return body
        time.sleep(0.2)


def deliveries(api: Client, post_id: str) -> list[dict[str, Any]]:
    return [d for d in api.get("/_local/sandbox/deliveries", key=None).body["items"]
            if d.get("scheduledPostId") == post_id]


def publish_message(post: dict[str, Any]) -> dict[str, Any]:
    """The SQS event the publisher gets for one `publish` message of this post."""
    from layers_shared import clock

    body = {"kind": "publish", "postId": post["id"], "scheduledFor": clock.to_storage(parse(post["scheduledFor"]))}
    return {"Records": [{"messageId": str(uuid.uuid4()), "receiptHandle": "x", "body": json.dumps(body)}]}


def slot_event(when: str) -> dict[str, Any]:
    from layers_shared.scheduling import trigger

    return trigger.slot_event(trigger.slot_of(when))


# -- the happy path ---------------------------------------------------------------


def test_a_scheduled_post_is_published_by_the_schedule_the_api_created(stack, api):
    when = at(6)
    post_id = schedule(api, TIKTOK, when)
    from layers_shared import aws

    names = [s["Name"] for s in aws.client("scheduler").list_schedules(
        GroupName=stack.publisher_loop.group)["Schedules"]]
    assert f"slot-{when.replace('-', '').replace(':', '')}" in names

    post = wait_for(api, post_id)
    assert post["status"] == "published", post
    assert post["externalId"] and post["externalUrl"] == f"https://www.tiktok.com/@acmecoffee/video/{post['externalId']}"
    attempted, scheduled = parse(post["attemptedAt"]), parse(post["scheduledFor"])
    assert scheduled <= attempted <= scheduled + timedelta(seconds=DEADLINE)
    assert parse(post["publishedAt"]) >= attempted
    assert post["lastError"] is None
    assert len(deliveries(api, post_id)) == 1


def test_targets_due_at_the_same_second_share_one_schedule(stack, api):
    from layers_shared import aws

    when = at(6)
    reply = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"},
                                 {"socialAccountId": TIKTOK, "mode": "draft"},
                                 {"socialAccountId": INSTAGRAM, "mode": "publish"}],
                         when=when, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert reply.status == 200, reply.body
    name = f"slot-{when.replace('-', '').replace(':', '')}"
    schedules = aws.client("scheduler").list_schedules(GroupName=stack.publisher_loop.group)["Schedules"]
    assert [s["Name"] for s in schedules].count(name) == 1
    detail = aws.client("scheduler").get_schedule(Name=name, GroupName=stack.publisher_loop.group)
    assert detail["ActionAfterCompletion"] == "DELETE" and detail["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert json.loads(detail["Target"]["Input"])["kind"] == "slot"

    posts = [wait_for(api, pid) for pid in reply.body["scheduledPostIds"]]
    assert [p["status"] for p in posts] == ["published", "draft", "published"]
    assert posts[2]["externalUrl"].startswith("https://www.instagram.com/p/")
    assert posts[1]["externalUrl"] is None
    assert all(len(deliveries(api, p["id"])) == 1 for p in posts)


def test_a_post_due_now_is_attempted_at_once(stack, api):
    started = datetime.now(timezone.utc)
    post_id = schedule(api, TIKTOK, at(0))
    post = wait_for(api, post_id)
    assert post["status"] == "published"
    assert parse(post["attemptedAt"]) - started < timedelta(seconds=DEADLINE)


# -- duplicate, early, stale firings ------------------------------------------------


def test_duplicate_firings_and_messages_deliver_once(stack, api):
    when = at(2)
    post_id = schedule(api, TIKTOK, when)
    loop = stack.publisher_loop
    time.sleep(max(0.0, (parse(when) - datetime.now(timezone.utc)).total_seconds()))
    post = api.get(f"/v1/scheduled-posts/{post_id}").body
    # The slot and the same message, many times at once, racing the loop itself.
    racers = [threading.Thread(target=loop.invoke, args=(event,))
              for event in [slot_event(when)] * 3 + [publish_message(post)] * 5]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    post = wait_for(api, post_id)
    assert post["status"] == "published"
    updated = post["updatedAt"]
    # ... and again after it is published.
    loop.invoke(slot_event(when))
    loop.invoke(publish_message(post))
    time.sleep(1)
    again = api.get(f"/v1/scheduled-posts/{post_id}").body
    assert again["status"] == "published" and again["updatedAt"] == updated
    assert len(deliveries(api, post_id)) == 1


def test_an_early_firing_does_nothing_and_the_post_still_goes_out_on_time(stack, api):
    when = at(8)
    post_id = schedule(api, TIKTOK, when)
    loop = stack.publisher_loop
    loop.invoke(slot_event(when))                       # the slot, fired early
    loop.invoke(publish_message(api.get(f"/v1/scheduled-posts/{post_id}").body))  # a message, early
    time.sleep(1)
    early = api.get(f"/v1/scheduled-posts/{post_id}").body
    assert early["status"] == "queued" and early["attemptedAt"] is None
    assert deliveries(api, post_id) == []

    post = wait_for(api, post_id)
    assert post["status"] == "published"
    attempted = parse(post["attemptedAt"])
    assert parse(when) <= attempted <= parse(when) + timedelta(seconds=DEADLINE)
    assert len(deliveries(api, post_id)) == 1


def test_a_rescheduled_post_publishes_only_at_its_new_time(stack, api):
    old, new = at(6), at(10)
    post_id = schedule(api, TIKTOK, old)
    reply = api.post(f"/v1/scheduled-posts/{post_id}/reschedule", {"scheduledFor": new},
                     headers={"Idempotency-Key": str(uuid.uuid4())})
    assert reply.status == 200, reply.body
    # The old slot fires (the loop, and once more by hand): nothing happens.
    time.sleep(max(0.0, (parse(old) - datetime.now(timezone.utc)).total_seconds()) + 1.5)
    stack.publisher_loop.invoke(slot_event(old))
    stale = api.get(f"/v1/scheduled-posts/{post_id}").body
    assert stale["status"] == "queued" and deliveries(api, post_id) == []

    post = wait_for(api, post_id)
    assert post["status"] == "published"
    assert parse(new) <= parse(post["attemptedAt"]) <= parse(new) + timedelta(seconds=DEADLINE)
    assert len(deliveries(api, post_id)) == 1


def test_a_canceled_post_never_publishes(stack, api):
    when = at(5)
    post_id = schedule(api, TIKTOK, when)
    reply = api.delete(f"/v1/scheduled-posts/{post_id}", {"reason": "changed our mind"},
                       headers={"Idempotency-Key": str(uuid.uuid4())})
    assert reply.status == 200, reply.body
    time.sleep(max(0.0, (parse(when) - datetime.now(timezone.utc)).total_seconds()) + 1.5)
    post = api.get(f"/v1/scheduled-posts/{post_id}").body
    stack.publisher_loop.invoke(slot_event(when))
    stack.publisher_loop.invoke(publish_message(post))
    stack.publisher_loop.invoke({"kind": "sweep"})
    time.sleep(1)
    post = api.get(f"/v1/scheduled-posts/{post_id}").body
    assert post["status"] == "canceled" and post["attemptedAt"] is None and post["publishedAt"] is None
    assert deliveries(api, post_id) == []


# -- crashes and outcomes -------------------------------------------------------------


class Crash(BaseException):
    """The worker dies (not an error the publisher could catch and record)."""


def test_a_worker_that_dies_after_submit_is_recovered_by_a_read(stack, api):
    from layers_shared import clock
    from layers_shared.platforms.sandbox import SandboxAdapter
    from layers_shared.publisher.dispatch import Publisher
    from layers_shared.publisher.queue import InMemoryQueue
    from layers_shared.publisher.settings import timings

    class SubmitsThenDies(SandboxAdapter):
        def submit(self, delivery):
            super().submit(delivery)
            raise Crash()

    # Far in the future so that no trigger or sweep races this worker; the
    # worker is told the post is due (its clock says so) and claims it.
    post_id = schedule(api, TIKTOK, at(600))
    post = api.get(f"/v1/scheduled-posts/{post_id}").body
    due = parse(post["scheduledFor"])
    # The frozen clock below is global: the loop would fire this post's slot
    # meanwhile and race the worker for the claim. Take the slot away.
    from layers_shared import aws
    from layers_shared.scheduling import trigger

    aws.client("scheduler").delete_schedule(Name=trigger.slot_name(trigger.slot_of(post["scheduledFor"])),
                                            GroupName=stack.publisher_loop.group)
    worker = Publisher(stack.table, InMemoryQueue(), adapter_for=lambda p: SubmitsThenDies(stack.table),
                       timings=timings().__class__(**{**timings().__dict__, "lease": 1}))
    clock.set_now(due)
    try:
        with pytest.raises(Crash):
            worker.publish(post_id, clock.to_storage(due))
    finally:
        clock.set_now(None)
    stuck = api.get(f"/v1/scheduled-posts/{post_id}").body
    assert stuck["status"] == "publishing" and len(deliveries(api, post_id)) == 1
    # Its lease (1 s from a claim 10 minutes ahead) ends only then: let the sweeper see that time.
    clock.set_now(due + timedelta(seconds=2))
    try:
        stack.publisher_loop.invoke({"kind": "sweep"})
    finally:
        clock.set_now(None)
    post = wait_for(api, post_id, timeout=10)
    assert post["status"] == "published", post
    assert len(deliveries(api, post_id)) == 1


def test_an_unknown_submit_is_confirmed_and_counted_once(stack, api):
    post_id = schedule(api, UNKNOWN, at(1))
    post = wait_for(api, post_id)
    assert post["status"] == "published" and post["externalId"]
    assert len(deliveries(api, post_id)) == 1


def test_transient_errors_are_retried_until_published(stack, api):
    post_id = schedule(api, FLAKY, at(1))
    post = wait_for(api, post_id, timeout=30)
    assert post["status"] == "published", post
    assert post["lastError"] is None
    item = stack.table.get({"PK": f"SP#{post_id}", "SK": "META"})
    assert item["attempts"] == 3  # transient:2 -> two failures, then success
    assert len(deliveries(api, post_id)) == 1


def test_a_permanent_rejection_lands_at_failed_with_last_error(stack, api):
    post_id = schedule(api, REJECTS, at(1))
    post = wait_for(api, post_id)
    assert post["status"] == "failed"
    assert post["lastError"]["code"] == "PLATFORM_REJECTED" and post["lastError"]["message"]
    assert post["lastError"]["platformCode"] == "sandbox_reject"
    assert post["publishedAt"] is None and post["externalId"] is None
    assert deliveries(api, post_id) == []


def test_an_instagram_personal_account_fails_with_the_graph_message(stack, api):
    post_id = schedule(api, IG_PERSONAL, at(1), container=IMAGE)
    post = wait_for(api, post_id)
    assert post["status"] == "failed"
    assert post["lastError"] == {"code": "PLATFORM_REJECTED", "platformCode": "10",
                                 "message": "(#10) Application does not have permission for this action"}
    assert deliveries(api, post_id) == []
