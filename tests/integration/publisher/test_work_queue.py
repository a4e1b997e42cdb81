"""The work queue at scale (issue 13, docs/adr/0090): a slot reads its own
second only, a fan-out out of time continues where it stopped, a lease
extension writes nothing to the keys-only index, the sweeper moves extended
entries and recovers expired ones, and a terminal write that is throttled
after the platform answered keeps the answer and writes it later without a
second platform call."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from layers_shared import clock
from layers_shared.models.entities import LastError
from layers_shared.platforms.port import Outcome
from layers_shared.publisher import sweep
from layers_shared.store import work_queue
from layers_shared.store.table import TransactionCanceled
from tests.support import TIKTOK


def _published(queue) -> list[str]:
    return sorted(m.body["postId"] for m in queue.take() if m.body["kind"] == "publish")


def test_a_slot_sends_only_the_posts_due_in_its_own_second(world, now):
    slot = now.replace(microsecond=0)
    clock.set_now(slot + timedelta(seconds=5))
    own = [world.post(TIKTOK, when=slot - timedelta(milliseconds=ms)) for ms in (0, 1, 999)]
    earlier = world.post(TIKTOK, when=slot - timedelta(seconds=1))        # the previous slot's
    backlog = world.post(TIKTOK, when=slot - timedelta(minutes=10))      # a lost slot: the sweeper's
    later = world.post(TIKTOK, when=slot + timedelta(milliseconds=1))    # the next slot's

    assert sweep.fan_out(world.table, world.queue, clock.to_storage(slot), clock.now()) == 3
    assert _published(world.queue) == sorted(own)
    assert {earlier, backlog, later}.isdisjoint(own)


def test_a_fan_out_out_of_time_continues_from_its_cursors_and_sends_every_post_once(world, now, monkeypatch):
    monkeypatch.setattr(work_queue, "PAGE", 2)
    slot = now.replace(microsecond=0)
    clock.set_now(slot)
    posts = [world.post(TIKTOK, when=slot) for _ in range(15)]

    sent = sweep.fan_out(world.table, world.queue, clock.to_storage(slot), slot, budget=timedelta(0))
    messages = world.queue.take()
    continuation = [m.body for m in messages if m.body["kind"] == "slot"]
    first = sorted(m.body["postId"] for m in messages if m.body["kind"] == "publish")
    assert len(continuation) == 1 and sent == len(first) < 15     # one page per shard, then a hand-over
    rounds = 1
    while continuation:
        body = continuation.pop()
        sweep.fan_out(world.table, world.queue, body["slot"], slot, resume=body["resume"], budget=timedelta(0))
        messages = world.queue.take()
        first += [m.body["postId"] for m in messages if m.body["kind"] == "publish"]
        continuation += [m.body for m in messages if m.body["kind"] == "slot"]
        rounds += 1
        assert rounds < 20
    assert sorted(first) == sorted(posts)                           # all of them, none twice


def _index_key(world, pid: str) -> tuple[Any, Any]:
    item = world.read(pid)
    return item.get("GSI2PK"), item.get("GSI2SK")


class Processing:
    """Accepted, then still processing at every read."""

    def __init__(self) -> None:
        self.submits = 0

    def submit(self, delivery):
        self.submits += 1
        return Outcome("processing", state={"publishId": "p_1"})

    def poll(self, delivery, state):
        return Outcome("processing", state=state)

    def confirm(self, delivery, state):
        return Outcome("processing", state=state)


def test_lease_extensions_leave_the_index_entry_and_the_sweeper_moves_or_recovers_it(world, now):
    clock.set_now(now)
    pid = world.post(TIKTOK, when=now)
    adapter = Processing()
    publisher = world.publisher(adapter_for=lambda post: adapter)
    assert publisher.publish(pid, clock.to_storage(now)) == "wait:poll"
    claimed = _index_key(world, pid)
    assert claimed[0].startswith("WQ#publishing#")
    for _ in range(3):  # polls: each takes a fresh token and extends the lease
        (message,) = world.queue.take()
        clock.set_now(clock.now() + timedelta(seconds=20))
        assert publisher.handle(message.body) == "wait:poll"
    assert _index_key(world, pid) == claimed                          # no index write
    assert world.read(pid)["leaseUntil"] > claimed[1].split("#")[0]  # yet the lease moved on
    world.queue.take()  # ... and this message is lost

    at_indexed_end = clock.parse_instant(claimed[1].split("#")[0]) + timedelta(seconds=1)
    clock.set_now(at_indexed_end)
    found = sweep.sweep(world.table, world.queue, at_indexed_end, publisher.timings)
    assert found == {"queued": 0, "recovered": 0, "reindexed": 1}    # alive: moved, not taken over
    moved = _index_key(world, pid)
    assert moved[1] == f"{world.read(pid)['leaseUntil']}#{pid}"

    after_lease = clock.parse_instant(world.read(pid)["leaseUntil"]) + timedelta(seconds=1)
    clock.set_now(after_lease)
    found = sweep.sweep(world.table, world.queue, after_lease, publisher.timings)
    assert found == {"queued": 0, "recovered": 1, "reindexed": 0}
    (step,) = world.queue.take()
    assert step.body["action"] == "poll" and adapter.submits == 1


class ThrottledOnce:
    """The table, except that the next transaction is refused for throttling."""

    def __init__(self, table) -> None:
        self._table = table
        self.refuse = 1

    def __getattr__(self, name):
        return getattr(self._table, name)

    def transact(self, items):
        if self.refuse:
            self.refuse -= 1
            raise TransactionCanceled(["ThrottlingError"] + ["None"] * (len(items) - 1))
        return self._table.transact(items)


class PublishesAtOnce:
    def __init__(self) -> None:
        self.submits = 0

    def submit(self, delivery):
        self.submits += 1
        return Outcome("published", external_id="7300000000000000001",
                       external_url="https://www.tiktok.com/@acmecoffee/video/7300000000000000001")

    def poll(self, delivery, state):  # pragma: no cover - must not be called
        raise AssertionError("the platform was asked again")

    confirm = poll


@pytest.mark.parametrize("fails", ["published", "failed"])
def test_a_throttled_terminal_write_keeps_the_answer_and_writes_it_later_without_asking_again(world, now, fails):
    clock.set_now(now)
    pid = world.post(TIKTOK, when=now)
    adapter = PublishesAtOnce()
    if fails == "failed":
        adapter.submit = lambda delivery: (setattr(adapter, "submits", adapter.submits + 1) or
                                           Outcome.failed("PLATFORM_REJECTED", "no"))
    throttled = ThrottledOnce(world.table)
    publisher = world.publisher(adapter_for=lambda post: adapter)
    publisher.table = throttled
    assert publisher.publish(pid, clock.to_storage(now)) == "wait:finish"
    kept = world.read(pid)
    assert kept["status"] == "publishing" and kept["pendingOutcome"]["status"] == fails
    if fails == "published":
        assert kept["pendingOutcome"]["set"]["externalId"] == "7300000000000000001"

    (message,) = world.queue.take()
    assert message.body["action"] == "finish"
    assert publisher.handle(message.body) == fails
    done = world.read(pid)
    assert done["status"] == fails and "pendingOutcome" not in done and "GSI2PK" not in done
    assert adapter.submits == 1
    assert publisher.handle(message.body) == "stale"                 # a duplicate of the message


def test_a_worker_that_dies_holding_a_pending_outcome_is_recovered_by_writing_it(world, now):
    clock.set_now(now)
    pid = world.post(TIKTOK, when=now)
    adapter = PublishesAtOnce()
    publisher = world.publisher(adapter_for=lambda post: adapter)
    publisher.table = ThrottledOnce(world.table)
    assert publisher.publish(pid, clock.to_storage(now)) == "wait:finish"
    world.queue.take()  # the finish message is lost
    later = clock.parse_instant(world.read(pid)["leaseUntil"]) + timedelta(seconds=1)
    clock.set_now(later)
    assert sweep.sweep(world.table, world.queue, later, publisher.timings)["recovered"] == 1
    (step,) = world.queue.take()
    assert step.body["action"] == "finish"
    assert publisher.handle(step.body) == "published" and adapter.submits == 1


class CommitsThenLosesTheAnswer(ThrottledOnce):
    """The next transaction is carried out, then its answer is lost."""

    def transact(self, items):
        self._table.transact(items)
        if self.refuse:
            self.refuse -= 1
            from botocore.exceptions import ReadTimeoutError

            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")


def test_a_terminal_write_whose_answer_is_lost_after_it_was_made_is_not_written_again(world, now):
    clock.set_now(now)
    pid = world.post(TIKTOK, when=now)
    adapter = PublishesAtOnce()
    publisher = world.publisher(adapter_for=lambda post: adapter)
    publisher.table = CommitsThenLosesTheAnswer(world.table)
    assert publisher.publish(pid, clock.to_storage(now)) == "stale"   # the pending save finds it written
    done = world.read(pid)
    assert done["status"] == "published" and "pendingOutcome" not in done and "GSI2PK" not in done
    assert world.queue.take() == [] and adapter.submits == 1
