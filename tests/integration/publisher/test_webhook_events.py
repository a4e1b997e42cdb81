"""The publisher's terminal write and its webhook event are one transaction
(layers_shared/webhooks/outbox.py): a crash and redelivery around the write,
or a raced second worker, raise no second event; a write that cannot land
raises none."""
from __future__ import annotations

from layers_shared import clock
from layers_shared.platforms.port import Outcome
from layers_shared.publisher import outcome as rules
from layers_shared.store import post_leases as claim
from layers_shared.webhooks import outbox
from tests.support import TIKTOK


def events_of(world, post_id):
    item = world.table.get(outbox.outbox_key(outbox.terminal_change(post_id)), consistent=True)
    return item["events"] if item else []


def test_the_terminal_write_carries_exactly_one_event(world, now):
    pid = world.post(TIKTOK, when=now)
    token, item = claim.claim(world.table, pid, clock.to_storage(now), now, 60)
    decision = rules.decide(item, Outcome("published", external_id="v1", external_url="https://t.example/v1"),
                            now, world.publisher().timings)
    assert rules.apply(world.table, pid, token, decision, now, world.publisher().timings, post=item)
    # The message is redelivered after a crash (or a second worker holds the old token): nothing more.
    assert not rules.apply(world.table, pid, token, decision, now, world.publisher().timings, post=item)
    (event,) = events_of(world, pid)
    assert event["type"] == "post.published" and event["data"]["externalId"] == "v1"
    assert event["data"]["status"] == "published" and event["data"]["scheduledPostId"] == pid
    assert world.read(pid)["status"] == "published"


def test_no_state_change_without_its_event(world, now):
    """If the event cannot be written, the post does not move either."""
    pid = world.post(TIKTOK, when=now)
    token, item = claim.claim(world.table, pid, clock.to_storage(now), now, 60)
    world.table.put({**outbox.outbox_key(outbox.terminal_change(pid)), "type": "BLOCKER"})
    decision = rules.decide(item, Outcome.failed("PLATFORM_ERROR", "no"), now, world.publisher().timings)
    assert not rules.apply(world.table, pid, token, decision, now, world.publisher().timings, post=item)
    assert world.read(pid)["status"] == "publishing"


def test_a_whole_publish_through_the_dispatcher_raises_one_event_however_often_redelivered(world, now):
    pid = world.post(TIKTOK, when=now)
    publisher = world.publisher()
    clock.set_now(now)
    assert publisher.publish(pid, clock.to_storage(now)) in ("published", "wait:poll", "wait:confirm")
    for _ in range(20):  # follow the steps; every message is also delivered twice
        sent = list(world.queue.sent)
        world.queue.sent.clear()
        if not sent:
            break
        for message in sent:
            for _ in range(2):
                publisher.handle(message.body)
    assert world.read(pid)["status"] in ("published", "draft")
    assert len(events_of(world, pid)) == 1


def test_an_account_turning_reauth_required_raises_one_needs_reauth(world, now):
    publisher = world.publisher()
    clock.set_now(now)
    publisher._set_account_status(TIKTOK, "reauth_required")
    publisher._set_account_status(TIKTOK, "reauth_required")  # a second post fails the same way
    items = [i for i in _outbox_items(world) if i["events"][0]["type"] == "social_account.needs_reauth"]
    assert len(items) == 1
    assert items[0]["events"][0]["data"] == {"socialAccountId": TIKTOK, "projectId": world.accounts[TIKTOK].projectId,
                                             "platform": "tiktok", "handle": world.accounts[TIKTOK].handle}


def _outbox_items(world):
    from layers_shared import aws
    from layers_shared.store import codec

    found = aws.client("dynamodb").scan(TableName=world.table.name, FilterExpression="#t = :e",
                                         ExpressionAttributeNames={"#t": "type"},
                                         ExpressionAttributeValues={":e": {"S": "EVT"}})["Items"]
    return [codec.deserialize(i) for i in found]
