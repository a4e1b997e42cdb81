"""Property: whatever the order of firings (duplicated, early, stale), crashes,
cancels and reschedules, a post is delivered at most once, a canceled post
never, and a published post not before its (final) time."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from layers_shared import clock
from layers_shared.platforms.sandbox import SandboxAdapter
from layers_shared.publisher import sweep
from layers_shared.publisher.settings import timings
from layers_shared.store import items, keys
from tests.support import FLAKY, TIKTOK, UNKNOWN


class Crash(BaseException):
    pass


class DiesAfterTheCall(SandboxAdapter):
    def submit(self, delivery):
        super().submit(delivery)
        raise Crash()

    def confirm(self, delivery, state):
        super().confirm(delivery, state)
        raise Crash()

    poll = confirm


operations = st.lists(st.one_of(
    st.tuples(st.just("fire"), st.booleans()),          # a publish message, for the original or current time
    st.tuples(st.just("slot"), st.booleans()),          # the slot of the original or current time fires
    st.tuples(st.just("deliver"), st.integers(0, 50), st.booleans()),  # deliver one (keep it: a duplicate)
    st.tuples(st.just("crash"), st.integers(0, 50)),    # a worker dies around the platform call
    st.tuples(st.just("cancel"),),
    st.tuples(st.just("reschedule"), st.integers(1, 60)),
    st.tuples(st.just("tick"), st.integers(0, 90)),
    st.tuples(st.just("sweep"),),
), max_size=25)


def cancel(world, post_id, now):
    from layers_shared.store.table import ConditionFailed
    try:
        world.table.update(keys.scheduled_post(post_id), "SET #s = :c, canceledAt = :now REMOVE GSI2PK, GSI2SK",
                           names={"#s": "status"}, values={":c": "canceled", ":q": "queued",
                                                           ":now": clock.to_storage(now)},
                           condition="#s = :q")
    except ConditionFailed:
        pass


def reschedule(world, post_id, when):
    from layers_shared.store.table import ConditionFailed
    stamp = clock.to_storage(when)
    wq = items.work_queue_attrs(post_id, "queued", stamp)
    try:
        world.table.update(keys.scheduled_post(post_id), "SET #s2 = :w, GSI2SK = :k",
                           names={"#s": "status", "#s2": "scheduledFor"},
                           values={":w": stamp, ":k": wq["GSI2SK"], ":q": "queued"}, condition="#s = :q")
    except ConditionFailed:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, account=st.sampled_from([TIKTOK, UNKNOWN, FLAKY]))
def test_at_most_one_delivery_in_any_order(world, ops, account):
    start = clock.truncate_ms(clock.now())
    clock.set_now(start)
    original = start + timedelta(seconds=10)
    post_id = world.post(account, when=original)
    good, dying = world.publisher(), world.publisher(adapter_for=lambda p: DiesAfterTheCall(world.table))
    pending: list[dict] = []
    world.queue.take()

    def collect():
        pending.extend(m.body for m in world.queue.take())

    for op in ops:
        now = clock.now()
        current = world.read(post_id)["scheduledFor"]
        if op[0] == "fire":
            pending.append({"kind": "publish", "postId": post_id,
                            "scheduledFor": current if op[1] else clock.to_storage(original)})
        elif op[0] == "slot":
            sweep.fan_out(world.table, world.queue, current if op[1] else clock.to_storage(original), now)
        elif op[0] in ("deliver", "crash") and pending:
            index = op[1] % len(pending)
            body = pending[index] if op[0] == "deliver" and op[2] else pending.pop(index)
            try:
                (good if op[0] == "deliver" else dying).handle(body)
            except Crash:
                pass
        elif op[0] == "cancel":
            cancel(world, post_id, now)
        elif op[0] == "reschedule":
            reschedule(world, post_id, now + timedelta(seconds=op[1]))
        elif op[0] == "tick":
            clock.set_now(now + timedelta(seconds=op[1]))
        elif op[0] == "sweep":
            sweep.sweep(world.table, world.queue, now, timings())
        collect()

    # Then the world calms down: time passes, the sweeper runs, every message arrives.
    for _ in range(12):
        clock.set_now(clock.now() + timedelta(seconds=400))
        sweep.sweep(world.table, world.queue, clock.now(), timings())
        collect()
        while pending:
            good.handle(pending.pop(0))
            collect()
        if world.read(post_id)["status"] in ("published", "failed", "canceled"):
            break

    post = world.read(post_id)
    delivered = world.deliveries(post_id)
    assert len(delivered) <= 1
    assert post["status"] in ("published", "failed", "canceled"), post
    if post["status"] == "canceled":
        assert delivered == [] and "attemptedAt" not in post
    if post["status"] == "published":
        assert len(delivered) == 1
        assert post["attemptedAt"] >= post["scheduledFor"]
    if post["status"] == "failed":
        assert delivered == []  # only a crash with nothing created on the platform ends here
