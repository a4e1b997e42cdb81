"""The publisher's sequences without moto: the real `Publisher`, `sweep` and
`store/post_leases.py` on the in-memory table (held to DynamoDB's behaviour
by tests/integration/test_memory_table_contract.py), the sandbox-free
scripted adapters below and an in-memory vault."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from layers_shared import clock
from layers_shared.models.entities import Media, ScheduledPost, SocialAccount
from layers_shared.platforms.port import Outcome
from layers_shared.publisher import sweep
from layers_shared.publisher.dispatch import Publisher
from layers_shared.publisher.queue import InMemoryQueue
from layers_shared.publisher.settings import Timings
from layers_shared.secrets.vault import InMemoryTokenVault
from layers_shared.store import items, keys
from tests.fakes.memory_table import MemoryTable

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
TIMINGS = Timings(lease=60, retry_base=1, max_attempts=5, retry_window=600, poll_base=1, poll_cap=30,
                  processing_limit=3600, sweep_grace=0)


class Scripted:
    """Answers submit/poll/confirm from lists; counts submits."""

    def __init__(self, submits: list[Outcome], reads: list[Outcome] | None = None) -> None:
        self.submits, self.reads, self.submitted = list(submits), list(reads or []), 0

    def submit(self, delivery):
        self.submitted += 1
        return self.submits.pop(0)

    def poll(self, delivery, state):
        return self.reads.pop(0)

    confirm = poll


@pytest.fixture
def table():
    clock.set_now(NOW)
    table = MemoryTable("layers-unit")
    table.put(items.to_item(SocialAccount(id="sa_1", projectId="prj_1", organizationId="org_1", platform="tiktok",
                                          handle="one")))
    yield table
    clock.set_now(None)


def _post(table, when=NOW) -> str:
    post = ScheduledPost(id=f"sp_{when.timestamp():.0f}_{len(table)}", organizationId="org_1", projectId="prj_1",
                         containerId="cnt_1", socialAccountId="sa_1", platform="tiktok", handle="one",
                         mode="publish", env="test", scheduledFor=clock.to_storage(when), mediaType="video",
                         media=[Media(url="https://media.example.com/a.mp4", kind="video")], caption="c",
                         createdAt=clock.to_storage(when), updatedAt=clock.to_storage(when))
    table.put(items.to_item(post))
    return post.id


def _publisher(table, adapter) -> tuple[Publisher, InMemoryQueue]:
    queue = InMemoryQueue()
    return Publisher(table, queue, adapter_for=lambda post: adapter, vault=InMemoryTokenVault(),
                     timings=TIMINGS), queue


def _drain(publisher, queue, limit=50) -> list[str]:
    seen = []
    while queue.sent and len(seen) < limit:
        for message in queue.take():
            clock.set_now(clock.now() + timedelta(seconds=message.delay))
            seen.append(publisher.handle(message.body))
    return seen


def test_slot_to_published_through_processing_and_a_duplicate_that_does_nothing(table):
    pid = _post(table)
    adapter = Scripted([Outcome("processing", state={"publishId": "p1"})],
                       [Outcome("processing", state={"publishId": "p1"}),
                        Outcome("published", external_id="7300000000000000001")])
    publisher, queue = _publisher(table, adapter)
    assert sweep.fan_out(table, queue, clock.to_storage(NOW), NOW) == 1
    (publish,) = queue.take()
    assert publisher.handle(publish.body) == "wait:poll"
    assert publisher.handle(publish.body) == "skipped"         # the slot's message delivered twice
    assert _drain(publisher, queue) == ["wait:poll", "published"]
    item = table.get(keys.scheduled_post(pid))
    assert item["status"] == "published" and item["externalId"] == "7300000000000000001"
    assert adapter.submitted == 1 and "GSI2PK" not in item and "leaseUntil" not in item


def test_a_retry_resubmits_and_a_lost_step_is_recovered_by_a_read_never_a_second_submit(table):
    pid = _post(table)
    adapter = Scripted([Outcome("retry", retry_after=2), Outcome("unknown")],
                       [Outcome("published", external_id="7300000000000000002")])
    publisher, queue = _publisher(table, adapter)
    assert publisher.publish(pid, clock.to_storage(NOW)) == "wait:submit"
    (resubmit,) = queue.take()
    clock.set_now(clock.now() + timedelta(seconds=resubmit.delay))
    assert publisher.handle(resubmit.body) == "wait:confirm"
    queue.take()  # the confirm message is lost with its worker
    later = clock.parse_instant(table.get(keys.scheduled_post(pid))["leaseUntil"]) + timedelta(seconds=1)
    clock.set_now(later)
    assert sweep.sweep(table, queue, later, TIMINGS) == {"queued": 0, "recovered": 1, "reindexed": 0}
    assert _drain(publisher, queue) == ["published"]
    assert adapter.submitted == 2


def test_the_work_queue_entry_is_written_on_claim_and_terminal_only(table):
    """Lease extensions write the item, never the keys-only index (ADR 0090)."""
    pid = _post(table)
    reads = [Outcome("processing", state={"publishId": "p1"})] * 4 + [Outcome("published", external_id="1")]
    publisher, queue = _publisher(table, Scripted([Outcome("processing", state={"publishId": "p1"})], reads))
    publisher.publish(pid, clock.to_storage(NOW))
    claimed = table.get(keys.scheduled_post(pid))["GSI2SK"]
    for _ in range(4):
        (message,) = queue.take()
        clock.set_now(clock.now() + timedelta(seconds=message.delay))
        publisher.handle(message.body)
        assert table.get(keys.scheduled_post(pid))["GSI2SK"] == claimed
    assert _drain(publisher, queue) == ["published"]


def test_the_sweeper_leaves_a_slots_posts_to_its_messages_for_the_grace_then_sends_them(table):
    """Within the grace a due post's slot message may still be queued (a burst
    draining): re-sending it would double the burst. After it, it was lost."""
    from layers_shared.publisher.settings import timings

    pid = _post(table)
    queue = InMemoryQueue()
    grace = timings().sweep_grace
    assert grace >= 60
    assert sweep.sweep(table, queue, NOW + timedelta(seconds=grace - 1), timings())["queued"] == 0
    assert sweep.sweep(table, queue, NOW + timedelta(seconds=grace), timings())["queued"] == 1
    assert [m.body["postId"] for m in queue.take()] == [pid]
