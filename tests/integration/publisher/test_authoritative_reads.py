"""A confirmed absence lets a post go on (issue 9, "What no unknown outcome can be").

When a worker dies after a submit the platform refused, recovery reads the
platform. Where that read is authoritative (the sandbox's own record), "no
post there" is proof that nothing went out: the post is resubmitted within
its retry window instead of failing SUBMIT_OUTCOME_UNKNOWN.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from layers_shared import clock
from layers_shared.platforms.sandbox import SandboxAdapter
from layers_shared.publisher import sweep
from tests.support import TIKTOK, sa

TRANSIENT_2 = sa(7)   # the sandbox refuses its first two submits
UNKNOWN = sa(8)       # the sandbox creates the post but the answer is "lost"


def _die_after_submit(world, publisher, pid, when):
    """Handle the claim: the submit reaches the sandbox, then the worker dies."""
    adapter = SandboxAdapter(world.table)

    class DiesAfterSubmit:
        def submit(self, delivery):
            adapter.submit(delivery)
            raise SystemExit("worker killed")

    dying = world.publisher(adapter_for=lambda post: DiesAfterSubmit(), timings=publisher.timings)
    with pytest.raises(SystemExit):
        dying.publish(pid, clock.to_storage(when))


def _drain(world, publisher, now):
    for _ in range(30):
        pending = world.queue.take()
        if not pending:
            return
        for message in pending:
            now += timedelta(seconds=message.delay)
            clock.set_now(now)
            publisher.handle(message.body)
    raise AssertionError("did not settle")


def test_a_refused_submit_whose_worker_died_goes_on_after_the_read(world, now):
    clock.set_now(now)
    publisher = world.publisher()
    pid = world.post(TRANSIENT_2, when=now)
    _die_after_submit(world, publisher, pid, now)     # the sandbox refused it (1 of 2)

    later = now + timedelta(minutes=2)
    clock.set_now(later)
    assert sweep.sweep(world.table, world.queue, later, publisher.timings)["recovered"] == 1
    _drain(world, publisher, later)

    item = world.read(pid)
    assert item["status"] == "published", item
    assert len(world.deliveries(pid)) == 1
    assert item["attempts"] == 3  # the refused one, the second refused, the one that went out


def test_a_created_post_whose_worker_died_is_recovered_not_resent(world, now):
    clock.set_now(now)
    publisher = world.publisher()
    pid = world.post(TIKTOK, when=now)
    _die_after_submit(world, publisher, pid, now)     # the sandbox created it

    later = now + timedelta(minutes=2)
    clock.set_now(later)
    sweep.sweep(world.table, world.queue, later, publisher.timings)
    _drain(world, publisher, later)

    item = world.read(pid)
    assert item["status"] == "published" and item["attempts"] == 1
    assert len(world.deliveries(pid)) == 1


def test_an_unknown_answer_is_confirmed_by_the_read(world, now):
    clock.set_now(now)
    publisher = world.publisher()
    pid = world.post(UNKNOWN, when=now)
    publisher.publish(pid, clock.to_storage(now))
    _drain(world, publisher, now)
    item = world.read(pid)
    assert item["status"] == "published" and len(world.deliveries(pid)) == 1


def test_time_a_dead_worker_held_the_post_does_not_count_against_the_retry_window(world, now):
    """Two of our own faults in a row (a worker dies after a refused submit,
    then the recovery's message is lost) cost two leases, ten minutes: the
    platform's retry window must not pay for them."""
    clock.set_now(now)
    publisher = world.publisher(timings=_production_like(world))
    pid = world.post(TRANSIENT_2, when=now)
    _die_after_submit(world, publisher, pid, now)     # refused 1 of 2; the worker dies

    later = now
    for _ in range(2):                               # recovered, and the recovery's message is lost ...
        later += timedelta(seconds=publisher.timings.lease + 30)
        clock.set_now(later)
        assert sweep.sweep(world.table, world.queue, later, publisher.timings)["recovered"] == 1
        world.queue.take()
    later += timedelta(seconds=publisher.timings.lease + 30)   # ... recovered again, 15 minutes in
    clock.set_now(later)
    assert sweep.sweep(world.table, world.queue, later, publisher.timings)["recovered"] == 1
    _drain(world, publisher, later)

    item = world.read(pid)
    assert item["status"] == "published", item
    assert len(world.deliveries(pid)) == 1


def test_the_platform_alone_still_gets_only_its_window(world, now):
    """Grace is only for our own faults: a platform that keeps refusing inside
    a healthy pipeline still fails after the window."""
    from layers_shared.platforms.port import Outcome

    class AlwaysBusy:
        def submit(self, delivery):
            return Outcome.retry("PLATFORM_UNAVAILABLE", "busy", retry_after=200)

    clock.set_now(now)
    publisher = world.publisher(adapter_for=lambda post: AlwaysBusy(), timings=_production_like(world))
    pid = world.post(TIKTOK, when=now)
    publisher.publish(pid, clock.to_storage(now))
    _drain(world, publisher, now)
    item = world.read(pid)
    assert item["status"] == "failed" and item["lastError"]["code"] == "PLATFORM_UNAVAILABLE"
    assert clock.from_storage(item["updatedAt"]) - now <= timedelta(seconds=600)


def _production_like(world):
    from layers_shared.publisher.settings import Timings

    return Timings(lease=300, retry_base=15, max_attempts=5, retry_window=600, poll_base=5, poll_cap=120,
                   processing_limit=7200, sweep_grace=10)
