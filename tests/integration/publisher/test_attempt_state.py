"""A confirm reads only what the current attempt submitted (issue 9, sequence 1).

Each submit attempt starts with no platform state of its own; what an outcome
write records (or carries into the next attempt) replaces the previous
attempt's. So a confirm after a lost answer can never mistake an older
attempt's publish id for this attempt's.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from layers_shared import clock
from layers_shared.platforms.port import Outcome
from layers_shared.platforms.tiktok import TikTokAdapter
from layers_shared.publisher import sweep
from tests.fakes.http_server import Fault
from tests.fakes.tiktok import FakeTikTok
from tests.support import TIKTOK

INIT = "/v2/post/publish/video/init/"


@pytest.fixture
def tiktok():
    with FakeTikTok() as fake:
        fake.add_account("act.local-example", "rft.local-example")
        fake.processing_polls = 0
        yield fake


def _run(world, publisher, start, *, crash_on=None):
    """Deliver queued messages on simulated time until none is left (or a step
    in `crash_on` is reached: that worker dies before handling it)."""
    now, results = start, []
    for _ in range(50):
        pending = world.queue.take()
        if not pending:
            return results
        for message in pending:
            now = now + timedelta(seconds=message.delay)
            clock.set_now(now)
            if crash_on and message.body.get("action") in crash_on:
                return results + [f"crash-before:{message.body['action']}"]
            results.append(publisher.handle(message.body))
    raise AssertionError(f"no end: {results}")


def test_a_lost_init_after_a_failed_attempt_is_never_confirmed_by_the_old_publish_id(world, now, tiktok):
    clock.set_now(now)
    adapter = TikTokAdapter(tiktok.url, "ck_test", "cs_test", connect_timeout=0.5, read_timeout=0.3)
    publisher = world.publisher(adapter_for=lambda post: adapter)
    pid = world.post(TIKTOK, when=now, env="live")

    tiktok.fail_reason = "video_pull_failed"          # attempt 1: init ok, then FAILED (retryable)
    assert publisher.publish(pid, clock.to_storage(now)) == "wait:poll"
    (poll,) = world.queue.take()
    clock.set_now(now + timedelta(seconds=poll.delay))
    assert publisher.handle(poll.body) == "wait:submit"
    tiktok.fail_reason = None
    tiktok.fault("POST", INIT, Fault(drop=True))      # attempt 2: TikTok creates it, the answer is lost
    results = _run(world, publisher, now + timedelta(seconds=poll.delay))

    assert len(tiktok.inits()) == 2, results          # never a third init
    item = world.read(pid)
    assert item["status"] == "failed" and item["lastError"]["code"] == "SUBMIT_OUTCOME_UNKNOWN", item


def test_a_worker_dying_inside_a_resubmit_is_not_confirmed_by_the_old_publish_id(world, now, tiktok):
    clock.set_now(now)
    adapter = TikTokAdapter(tiktok.url, "ck_test", "cs_test", connect_timeout=0.5, read_timeout=0.3)
    publisher = world.publisher(adapter_for=lambda post: adapter)
    pid = world.post(TIKTOK, when=now, env="live")

    tiktok.fail_reason = "video_pull_failed"
    publisher.publish(pid, clock.to_storage(now))
    (poll,) = world.queue.take()
    later = now + timedelta(seconds=poll.delay)
    clock.set_now(later)
    assert publisher.handle(poll.body) == "wait:submit"
    tiktok.fail_reason = None
    (resubmit,) = world.queue.take()
    later += timedelta(seconds=resubmit.delay)
    clock.set_now(later)
    # The worker records the submit, sends the init (TikTok creates it) and dies before recording the answer.
    real_submit = adapter.submit

    def submit_then_die(delivery):
        real_submit(delivery)
        raise SystemExit("worker killed")

    adapter.submit = submit_then_die  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        publisher.handle(resubmit.body)
    adapter.submit = real_submit  # type: ignore[method-assign]

    later += timedelta(minutes=3)
    clock.set_now(later)
    assert sweep.sweep(world.table, world.queue, later, publisher.timings)["recovered"] == 1
    _run(world, publisher, later)

    assert len(tiktok.inits()) == 2
    item = world.read(pid)
    assert item["status"] == "failed" and item["lastError"]["code"] == "SUBMIT_OUTCOME_UNKNOWN", item


class Scripted:
    """An adapter whose answers a test scripts, recording the state each read got."""

    def __init__(self, *answers: Outcome) -> None:
        self.answers = list(answers)
        self.reads: list[dict] = []

    def submit(self, delivery):
        return self.answers.pop(0)

    def poll(self, delivery, state):
        self.reads.append(dict(state))
        return self.answers.pop(0)

    confirm = poll


def test_state_an_adapter_carries_into_a_retry_reaches_the_next_attempt(world, now):
    """Instagram keeps its container across a failed media_publish: a carried
    state is the next attempt's, not an old one."""
    clock.set_now(now)
    adapter = Scripted(Outcome("processing", state={"containerId": "c1"}),
                       Outcome.retry("PLATFORM_UNAVAILABLE", "5xx", ),
                       Outcome("published", external_id="m1"))
    adapter.answers[1].state = {"containerId": "c1"}
    publisher = world.publisher(adapter_for=lambda post: adapter)
    pid = world.post(TIKTOK, when=now)
    publisher.publish(pid, clock.to_storage(now))
    _run(world, publisher, now)
    assert world.read(pid)["status"] == "published"


def test_a_poll_whose_adapter_raises_keeps_the_publish_id(world, now):
    """An adapter bug while reading is not a lost submit: the next read still
    has the state the submit recorded."""
    clock.set_now(now)

    class RaisesOnce(Scripted):
        def poll(self, delivery, state):
            self.reads.append(dict(state))
            if len(self.reads) == 1:
                raise RuntimeError("bug")
            return Outcome("published", external_id="x")

        confirm = poll

    adapter = RaisesOnce(Outcome("processing", state={"publishId": "P1"}))
    publisher = world.publisher(adapter_for=lambda post: adapter)
    pid = world.post(TIKTOK, when=now)
    publisher.publish(pid, clock.to_storage(now))
    _run(world, publisher, now)
    assert adapter.reads == [{"publishId": "P1"}, {"publishId": "P1"}]
    assert world.read(pid)["status"] == "published"
