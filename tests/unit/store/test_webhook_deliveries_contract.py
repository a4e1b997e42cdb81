"""The `WebhookDeliveries` port: the DynamoDB adapter and the in-memory fake
accept, refuse and return alike (each test runs on both, webhook_sides.py):
one delivery per id, one attempt at a time along the ladder, abandonment, and
the bounded newest-first pages of the deliveries route."""
from __future__ import annotations

import dataclasses
import uuid

from layers_shared.webhooks.ports import AttemptOutcome, DeliveryListQuery, position
from tests.unit.store.webhook_sides import delivery, stamp, webhooks  # noqa: F401 (a fixture)


def endpoint_id() -> str:
    return str(uuid.uuid4())


def failed(n: float, retry_at: str | None) -> AttemptOutcome:
    return AttemptOutcome("pending" if retry_at else "failed", stamp(n), 500, "HTTP 500", retry_at)


def test_a_delivery_is_added_once_and_reads_back_as_added(webhooks):
    made = delivery(endpoint_id(), replayOf="d-original", replayOfEvent="evt_original",
                    data={"a": None, "n": [1, {"b": "c"}]})
    assert webhooks.deliveries.add(made)
    assert not webhooks.deliveries.add(dataclasses.replace(made, eventType="post.failed"))  # a stream retry
    assert webhooks.deliveries.get(made.id) == made
    assert webhooks.deliveries.get(made.id, consistent=False) == made
    assert webhooks.deliveries.get(str(uuid.uuid4())) is None


def test_an_attempt_is_claimed_once_until_its_lease_runs_out(webhooks):
    made = delivery(endpoint_id())
    webhooks.deliveries.add(made)
    assert not webhooks.deliveries.claim(made.id, 2, stamp(1), stamp(31))  # attempt 1 was not made
    assert webhooks.deliveries.claim(made.id, 1, stamp(1), stamp(31))
    assert not webhooks.deliveries.claim(made.id, 1, stamp(2), stamp(32))  # a duplicate message
    held = webhooks.deliveries.get(made.id)
    assert (held.status, held.leaseUntil, held.attempts) == ("delivering", stamp(31), 0)
    # The holder died: after its lease, the same attempt is taken over.
    assert webhooks.deliveries.claim(made.id, 1, stamp(40), stamp(70))
    assert webhooks.deliveries.get(made.id).leaseUntil == stamp(70)
    assert not webhooks.deliveries.claim(str(uuid.uuid4()), 1, stamp(1), stamp(31))


def test_the_ladder_records_each_attempt_once_then_fails(webhooks):
    made = delivery(endpoint_id())
    webhooks.deliveries.add(made)
    for n in range(1, 8):
        assert webhooks.deliveries.claim(made.id, n, stamp(n), stamp(n + 30))
        assert webhooks.deliveries.record_attempt(made.id, n, failed(n, stamp(n + 100)))
        assert not webhooks.deliveries.record_attempt(made.id, n, failed(n, stamp(n + 100)))  # recorded already
        waiting = webhooks.deliveries.get(made.id)
        assert (waiting.status, waiting.attempts, waiting.nextRetryAt, waiting.leaseUntil) == (
            "pending", n, stamp(n + 100), None)
    assert webhooks.deliveries.claim(made.id, 8, stamp(8), stamp(38))
    assert webhooks.deliveries.record_attempt(made.id, 8, failed(8, None))
    assert webhooks.deliveries.get(made.id) == dataclasses.replace(
        made, status="failed", attempts=8, nextRetryAt=None, lastResponseStatus=500, lastResponseAt=stamp(8),
        lastErrorMessage="HTTP 500")
    assert not webhooks.deliveries.claim(made.id, 9, stamp(9), stamp(39))


def test_a_delivered_attempt_ends_the_delivery(webhooks):
    made = delivery(endpoint_id())
    webhooks.deliveries.add(made)
    assert not webhooks.deliveries.record_attempt(made.id, 1, failed(1, stamp(2)))  # not claimed
    webhooks.deliveries.claim(made.id, 1, stamp(1), stamp(31))
    webhooks.deliveries.record_attempt(made.id, 1, AttemptOutcome("delivered", stamp(2), 204, None))
    assert webhooks.deliveries.get(made.id) == dataclasses.replace(
        made, status="delivered", attempts=1, nextRetryAt=None, deliveredAt=stamp(2), lastResponseStatus=204,
        lastResponseAt=stamp(2), lastErrorMessage=None)
    assert not webhooks.deliveries.claim(made.id, 2, stamp(3), stamp(33))
    assert not webhooks.deliveries.abandon(made.id, stamp(3))  # finished: it stays delivered


def test_an_abandoned_delivery_takes_no_record_of_the_attempt_under_way(webhooks):
    made = delivery(endpoint_id())
    webhooks.deliveries.add(made)
    webhooks.deliveries.claim(made.id, 1, stamp(1), stamp(31))
    assert webhooks.deliveries.abandon(made.id, stamp(2))  # the endpoint was paused meanwhile
    assert not webhooks.deliveries.record_attempt(made.id, 1, AttemptOutcome("delivered", stamp(3), 200, None))
    assert webhooks.deliveries.get(made.id) == dataclasses.replace(made, status="abandoned", abandonedAt=stamp(2),
                                                                   nextRetryAt=None)
    assert not webhooks.deliveries.abandon(made.id, stamp(4))
    assert not webhooks.deliveries.abandon(str(uuid.uuid4()), stamp(4))


def test_unfinished_are_the_endpoints_pending_and_delivering_ones(webhooks):
    mine, other = endpoint_id(), endpoint_id()
    made = [delivery(mine, created=i) for i in range(4)] + [delivery(other)]
    for d in made:
        webhooks.deliveries.add(d)
    webhooks.deliveries.claim(made[1].id, 1, stamp(1), stamp(31))
    webhooks.deliveries.abandon(made[2].id, stamp(1))
    webhooks.deliveries.claim(made[3].id, 1, stamp(1), stamp(31))
    webhooks.deliveries.record_attempt(made[3].id, 1, AttemptOutcome("delivered", stamp(2), 200, None))
    assert sorted(d.id for d in webhooks.deliveries.unfinished(mine)) == sorted([made[0].id, made[1].id])


def pages(webhooks, query: DeliveryListQuery) -> list[tuple[list[str], str | None]]:
    """Every page, following the positions, as (delivery ids, position)."""
    found = []
    while True:
        page = webhooks.deliveries.page(query)
        found.append(([d.id for d in page.deliveries], page.resume_after))
        if page.resume_after is None:
            return found
        query = dataclasses.replace(query, after=page.resume_after)


def test_pages_are_newest_first_and_resume_after_their_last(webhooks):
    mine = endpoint_id()
    made = [delivery(mine, created=i) for i in range(7)]
    for d in made:
        webhooks.deliveries.add(d)
    webhooks.deliveries.add(delivery(endpoint_id(), created=3))  # another endpoint's
    newest = [d.id for d in reversed(made)]
    assert pages(webhooks, DeliveryListQuery(mine, None, None, 2)) == [
        (newest[0:2], position(made[5])), (newest[2:4], position(made[3])), (newest[4:6], position(made[1])),
        (newest[6:], None)]


def test_a_sparse_filter_stops_at_the_read_budget_with_a_position(webhooks):
    """3 items a read, 2 reads (webhook_sides.py): six misses make a short, empty page."""
    mine = endpoint_id()
    made = [delivery(mine, created=i) for i in range(7)]
    made[0] = dataclasses.replace(made[0], eventType="post.failed")
    for d in made:
        webhooks.deliveries.add(d)
    webhooks.deliveries.claim(made[0].id, 1, stamp(1), stamp(31))
    assert pages(webhooks, DeliveryListQuery(mine, "post.failed", None, 5)) == [
        ([], position(made[1])), ([made[0].id], None)]
    assert pages(webhooks, DeliveryListQuery(mine, None, "delivering", 5)) == [
        ([], position(made[1])), ([made[0].id], None)]
    assert pages(webhooks, DeliveryListQuery(mine, "post.failed", "pending", 5)) == [
        ([], position(made[1])), ([], None)]
    assert pages(webhooks, DeliveryListQuery(mine, "test.ping", "pending", 3)) == [
        ([made[6].id, made[5].id, made[4].id], position(made[4])),
        ([made[3].id, made[2].id, made[1].id], position(made[1])), ([], None)]  # the oldest is delivering
