"""The retry window holds even when a resubmit's message comes late or is lost."""
from __future__ import annotations

from datetime import timedelta

from layers_shared import clock
from layers_shared.platforms.port import Outcome
from layers_shared.publisher import sweep
from tests.support import TIKTOK


class FailsOnce:
    """503 on the first submit, published on any later one."""

    def __init__(self) -> None:
        self.submits = 0

    def submit(self, delivery):
        self.submits += 1
        if self.submits == 1:
            return Outcome.retry("PLATFORM_UNAVAILABLE", "TikTok answered HTTP 503.", "internal_error")
        return Outcome("published", external_id="7300000000000000001")


def test_a_resubmit_recovered_after_the_ten_minute_window_fails_without_submitting(world, now):
    adapter = FailsOnce()
    clock.set_now(now)
    pid = world.post(TIKTOK, when=now)
    publisher = world.publisher(adapter_for=lambda post: adapter)
    assert publisher.publish(pid, clock.to_storage(now)) == "wait:submit"
    assert [m.body["action"] for m in world.queue.take()] == ["submit"]  # ... and this message is lost

    later = now + timedelta(minutes=11)
    clock.set_now(later)
    assert sweep.sweep(world.table, world.queue, later, publisher.timings) == {"queued": 0, "recovered": 1, "reindexed": 0}
    (step,) = world.queue.take()
    assert publisher.handle(step.body) == "failed"
    item = world.read(pid)
    assert adapter.submits == 1 and item["attempts"] == 1
    assert item["lastError"] == {"code": "PLATFORM_UNAVAILABLE", "message": "TikTok answered HTTP 503.",
                                 "platformCode": "internal_error"}


def test_a_resubmit_inside_the_window_still_goes_out(world, now):
    adapter = FailsOnce()
    clock.set_now(now)
    pid = world.post(TIKTOK, when=now)
    publisher = world.publisher(adapter_for=lambda post: adapter)
    publisher.publish(pid, clock.to_storage(now))
    (step,) = world.queue.take()
    clock.set_now(now + timedelta(seconds=step.delay))
    assert publisher.handle(step.body) == "published"
    assert adapter.submits == 2 and world.read(pid)["attempts"] == 2
