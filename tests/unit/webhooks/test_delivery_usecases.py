"""The fan-out and the delivery attempts on the in-memory ports (fanout.py,
delivery.py): one delivery per subscribed active endpoint however often the
stream hands a change over, the signed POST, the retry ladder, duplicates that
do nothing, and the auto-pause after 20 failures in a row."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

from layers_shared import clock
from layers_shared.domain.ports import ChangeEvents
from layers_shared.webhooks import delivery, fanout, outbox, rules, signing, ssrf
from layers_shared.webhooks.ports import Endpoint
from layers_shared.webhooks.transport import Answer
from tests.fakes.webhooks_store import (
    InMemoryDeliveryQueue, InMemorySecretBox, InMemoryWebhookDeliveries, InMemoryWebhookEndpoints,
)

ORG = "org_11111111-1111-4111-8111-111111111111"
NOW = datetime(2026, 5, 20, 9, 0, tzinfo=timezone.utc)
SECRET = "whsec_current"


class Receiver:
    """The Transport port: answers each POST with the next status given (the last one repeats)."""

    def __init__(self, *statuses: int | None) -> None:
        self.statuses = list(statuses) or [204]
        self.posts: list[dict[str, Any]] = []

    def post(self, url: str, target: ssrf.Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
        self.posts.append({"url": url, "body": json.loads(body), "raw": body, "headers": headers})
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Answer(status, None if status else "connection failed: ConnectionRefusedError", 1.0)


class World:
    def __init__(self, receiver: Receiver | None = None) -> None:
        self.endpoints, self.deliveries = InMemoryWebhookEndpoints(), InMemoryWebhookDeliveries()
        self.queue, self.secrets, self.receiver = InMemoryDeliveryQueue(), InMemorySecretBox(), receiver or Receiver()
        self.fanout = fanout.Ports(self.endpoints, self.deliveries, self.queue)
        self.delivery = delivery.Ports(self.endpoints, self.deliveries, self.queue, self.secrets, self.receiver)

    def endpoint(self, n: int = 1, **over: Any) -> Endpoint:
        endpoint_id = f"00000000-0000-4000-8000-{n:012d}"
        fields: dict[str, Any] = dict(
            id=endpoint_id, organizationId=ORG, env="test", url=f"http://localhost:9/hook{n}",
            events=("post.published", "post.failed"), description=None, projectId=None, metadata={}, status="active",
            consecutiveFailureCount=0, secretCiphertext=self.secrets.encrypt(endpoint_id, SECRET),
            createdAt=clock.to_storage(NOW), updatedAt=clock.to_storage(NOW))
        made = Endpoint(**{**fields, **over})
        self.endpoints.create(made)
        return made

    def attempt(self, delivery_id: str, attempt: int) -> str:
        return delivery.attempt_once(self.delivery, delivery_id, attempt, clock.now())


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.set_now(NOW)
    yield
    clock.set_now(None)


def published(change: str = "sp_1#terminal", project_id: str | None = "prj_1") -> ChangeEvents:
    event = outbox.event(change, 0, "post.published", {"scheduledPostId": "sp_1"}, project_id, NOW)
    return ChangeEvents(change, ORG, [event], NOW)


# -- fan-out ----------------------------------------------------------------------------------

def test_every_subscribed_active_endpoint_gets_one_delivery():
    world = World()
    wanted = [world.endpoint(1), world.endpoint(2, projectId="prj_1")]
    world.endpoint(3, status="paused")
    world.endpoint(4, events=("post.failed",))
    world.endpoint(5, projectId="prj_other")
    change = published()
    planned = fanout.fan_out(world.fanout, change)
    event_id = change.events[0]["id"]
    assert sorted(planned) == sorted(rules.fanout_delivery_id(event_id, e.id) for e in wanted)
    assert sorted(world.deliveries.get(i).endpointId for i in planned) == sorted(e.id for e in wanted)
    assert sorted(m["deliveryId"] for m, delay in world.queue.sent) == sorted(planned)
    assert {(m["attempt"], delay) for m, delay in world.queue.sent} == {(1, 0)}


def test_a_change_handed_over_again_plans_no_second_delivery():
    world = World()
    endpoint = world.endpoint(1)
    change = published()
    [first] = fanout.fan_out(world.fanout, change)
    assert fanout.fan_out(world.fanout, change) == [first]  # still waiting: its message goes again
    assert len(world.deliveries.stored) == 1 and len(world.queue.sent) == 2
    world.attempt(first, 1)
    assert fanout.fan_out(world.fanout, change) == []  # attempted (here delivered): nothing to plan
    assert len(world.deliveries.stored) == 1 and world.deliveries.get(first).endpointId == endpoint.id


def test_a_ping_goes_to_its_endpoint_only_whatever_it_subscribes_to():
    world = World()
    target = world.endpoint(1, events=("post.failed",))
    world.endpoint(2, events=("test.ping",))
    change = f"ping#{target.id}#x"
    event = {**outbox.event(change, 0, "test.ping", {"endpointId": target.id}, None, NOW), "endpointId": target.id}
    [planned] = fanout.fan_out(world.fanout, ChangeEvents(change, ORG, [event], NOW))
    assert world.deliveries.get(planned).endpointId == target.id


def test_a_failed_change_and_those_after_it_come_again():
    world = World()
    world.endpoint(1)
    broken = ChangeEvents("broken", ORG, [{"type": "post.published"}], NOW)  # no event id
    failures = fanout.handle(world.fanout, [("1", published("a")), ("2", broken), ("3", published("b"))])
    assert failures == [{"itemIdentifier": "2"}]
    assert len(world.deliveries.stored) == 1


# -- attempts ---------------------------------------------------------------------------------

def fanned(world: World, change: ChangeEvents | None = None) -> str:
    [planned] = fanout.fan_out(world.fanout, change or published())
    world.queue.sent.clear()
    return planned


def test_a_delivered_attempt_is_signed_and_recorded_and_resets_the_failures():
    world = World(Receiver(204))
    endpoint = world.endpoint(1)
    world.endpoints.count_failure(endpoint.id)
    planned = fanned(world)
    assert world.attempt(planned, 1) == "delivered"
    [sent] = world.receiver.posts
    headers = sent["headers"]
    assert sent["url"] == endpoint.url and sent["body"]["type"] == "post.published"
    assert headers["X-Layers-Delivery-Id"] == planned and headers["X-Layers-Event-Id"] == sent["body"]["id"]
    assert headers["X-Layers-Signature"].count("v1=") == 1
    assert signing.verify(SECRET, headers["X-Layers-Signature"], sent["raw"], now=int(time.time()))
    stored = world.deliveries.get(planned)
    assert (stored.status, stored.attempts, stored.lastResponseStatus, stored.deliveredAt) == (
        "delivered", 1, 204, clock.to_storage(NOW))
    assert world.endpoints.get(endpoint.id).consecutiveFailureCount == 0
    assert world.attempt(planned, 1) == "done" and len(world.receiver.posts) == 1  # a duplicate message


def test_during_a_rotation_both_secrets_sign_then_only_the_new_one():
    world = World()
    endpoint = world.endpoint(1)
    world.endpoints.rotate(endpoint, world.secrets.encrypt(endpoint.id, "whsec_new"),
                           clock.to_storage(NOW + timedelta(hours=24)), clock.to_storage(NOW))
    world.attempt(fanned(world), 1)
    clock.set_now(NOW + timedelta(hours=25))
    world.attempt(fanned(world, published("sp_2#terminal")), 1)
    during, after = (p["headers"]["X-Layers-Signature"] for p in world.receiver.posts)
    assert during.count("v1=") == 2 and after.count("v1=") == 1
    raw = world.receiver.posts[0]["raw"]
    assert signing.verify("whsec_new", during, raw, int(time.time())) and signing.verify(SECRET, during, raw,
                                                                                          int(time.time()))


def test_the_ladder_waits_then_gives_up_after_the_eighth_attempt(monkeypatch):
    monkeypatch.delenv(rules.LADDER_ENV, raising=False)
    world = World(Receiver(500))
    world.endpoint(1)
    planned = fanned(world)
    results, at = [], NOW
    for attempt in range(1, 9):
        clock.set_now(at)
        results.append(world.attempt(planned, attempt))
        assert world.attempt(planned, attempt) in ("stale", "done")  # the same message again does nothing
        wait = rules.next_wait(attempt)
        if wait is not None:
            assert world.deliveries.get(planned).nextRetryAt == clock.to_storage(at + timedelta(seconds=wait))
            at += timedelta(seconds=wait)
    assert results == ["retry"] * 7 + ["failed"]
    assert [(m["attempt"], delay) for m, delay in world.queue.sent] == [
        (2, 30), (3, 60), (4, 300), (5, 900), (6, 900), (7, 900), (8, 900)]  # SQS waits at most 15 min a hop
    assert [round(m["due"] - NOW.timestamp()) for m, _ in world.queue.sent][-1] == sum(rules.LADDER)
    stored = world.deliveries.get(planned)
    assert (stored.status, stored.attempts, stored.nextRetryAt, stored.lastErrorMessage) == (
        "failed", 8, None, "HTTP 500")
    assert len(world.receiver.posts) == 8


def test_a_message_due_later_is_sent_on_in_hops():
    world = World()
    world.endpoint(1)
    planned = fanned(world)
    due = time.time() + 3600
    assert delivery.handle(world.delivery, {"deliveryId": planned, "attempt": 1, "due": due}) == "hop"
    [(message, delay)] = world.queue.sent
    assert message == {"deliveryId": planned, "attempt": 1, "due": round(due, 3)} and 3590 < delay <= 3600
    assert world.receiver.posts == []
    assert delivery.handle(world.delivery, {"deliveryId": 7}) == "ignored"


def test_an_attempt_for_a_paused_endpoint_abandons_the_delivery_unsent():
    world = World()
    endpoint = world.endpoint(1)
    planned = fanned(world)
    world.endpoints.update(endpoint, {"status": "paused", "updatedAt": clock.to_storage(NOW)})
    assert world.attempt(planned, 1) == "abandoned"
    assert world.receiver.posts == [] and world.deliveries.get(planned).status == "abandoned"


def test_a_name_that_now_resolves_privately_is_a_failed_attempt_without_a_post():
    world = World()
    world.endpoint(1, env="live", url="https://hooks.example/in")
    planned = fanned(world)
    ssrf.use(ssrf.StaticResolver({"hooks.example": ["10.0.0.7"]}))
    try:
        assert world.attempt(planned, 1) == "retry"
    finally:
        ssrf.use(None)
    assert world.receiver.posts == []
    assert world.deliveries.get(planned).lastErrorMessage.startswith("refused: ")


def test_the_20th_failure_in_a_row_pauses_the_endpoint_and_abandons_the_rest():
    world = World(Receiver(None))
    endpoint = world.endpoint(1)
    for _ in range(rules.AUTO_PAUSE_AFTER - 2):
        world.endpoints.count_failure(endpoint.id)
    first, second, third = (fanned(world, published(f"sp_{n}#terminal")) for n in range(3))
    assert world.attempt(first, 1) == "retry"  # the 19th
    assert world.endpoints.get(endpoint.id).status == "active"
    assert world.attempt(second, 1) == "retry"  # the 20th
    paused = world.endpoints.get(endpoint.id)
    assert (paused.status, paused.consecutiveFailureCount) == ("auto_paused", rules.AUTO_PAUSE_AFTER)
    assert {world.deliveries.get(i).status for i in (first, second, third)} == {"abandoned"}
    assert world.attempt(first, 2) == "done" and len(world.receiver.posts) == 2


def test_a_replay_carries_the_original_event_id():
    world = World()
    endpoint = world.endpoint(1)
    change = "replay#d#x"
    event = {**outbox.event(change, 0, "post.failed", {"n": 1}, None, NOW), "endpointId": endpoint.id,
             "replayOf": "evt_original", "replayOfDelivery": "d-original"}
    planned = fanned(world, ChangeEvents(change, ORG, [event], NOW))
    assert world.deliveries.get(planned).replayOf == "d-original"
    world.attempt(planned, 1)
    assert world.receiver.posts[0]["body"] == {"id": event["id"], "type": "post.failed",
                                               "createdAt": event["createdAt"], "data": {"n": 1},
                                               "replayOf": "evt_original"}
