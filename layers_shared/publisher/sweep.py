"""Finding work in the work queue: a slot's fan-out and the sweeper.

Both page through the keys-only GSI2 (`store/work_queue.py`) one shard per
thread and put one message per post on the publish queue, so the work per
post is constant and a 100,000-post slot is spread over every shard at once
(docs/adr/0090). Both are bounded per invocation: a fan-out that runs out of
time hands the shards' cursors to a continuation message, and the sweeper
simply continues at its next run. Running either twice is harmless: a
`publish` message for a post already claimed is skipped by the claim's
condition.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, TypeVar

from layers_shared import clock
from layers_shared.publisher import messages
from layers_shared.publisher.queue import Outgoing, Queue
from layers_shared.publisher.settings import MAX_SQS_DELAY, Timings
from layers_shared.store import post_leases, work_queue
from layers_shared.store.table import Table

log = logging.getLogger(__name__)

# Time an invocation gives its fan-out before handing over to a continuation
# (the function's timeout is 120 s: the rest is margin for the last pages).
FANOUT_BUDGET = timedelta(seconds=60)
THREADS = 32  # one per shard; boto3 clients are thread-safe, their pools sized for it (aws.py)
DONE = "done"

T = TypeVar("T")
R = TypeVar("R")


def run_parallel(fn: Callable[[T], R], tasks: Iterable[T]) -> list[R]:
    """One thread per task (the load model replaces this to run them on
    simulated time)."""
    work = list(tasks)
    if len(work) <= 1:
        return [fn(t) for t in work]
    with ThreadPoolExecutor(max_workers=min(len(work), THREADS)) as pool:
        return list(pool.map(fn, work))


@dataclass
class ShardRun:
    shard: int
    sent: int = 0
    cursor: Any = None  # where to resume (a LastEvaluatedKey), DONE, or None (from the start)
    later: list[str] = field(default_factory=list)


def _publish(entries: list[work_queue.Entry]) -> list[Outgoing]:
    return [Outgoing(messages.publish(e.post_id, e.instant)) for e in entries]


def _page_through(table: Table, queue: Queue, status: str, run: ShardRun, above: str | None, upto: str,
                  deadline: datetime, handle: Callable[[list[work_queue.Entry]], list[Outgoing]]) -> ShardRun:
    start = run.cursor if isinstance(run.cursor, dict) else None
    while True:
        entries, start = work_queue.page(table, status, run.shard, above=above, upto=upto, start=start)
        out = handle(entries)
        queue.send(out)
        run.sent += len(out)
        if not start:
            run.cursor = DONE
            return run
        if clock.now() >= deadline:
            run.cursor = start
            return run


def fan_out(table: Table, queue: Queue, slot: str, now: datetime, *, resume: dict[str, Any] | None = None,
            budget: timedelta = FANOUT_BUDGET) -> int:
    """A slot fired: one `publish` message per post due in it, i.e. with
    `scheduledFor` in (slot - 1 s, slot] (slots are whole seconds, rounded
    up); earlier posts belong to their own slots or, if those were lost, to the
    sweeper, so no slot rereads another's backlog. A slot that fires early
    publishes only what is due now and parks itself until its time."""
    at = clock.parse_instant(slot)
    above = clock.to_storage(at - timedelta(seconds=1))
    upto = clock.to_storage(min(at, now))
    deadline = now + budget
    sent = 0
    cursors: dict[str, Any] = {}
    if upto > above:
        runs = [ShardRun(shard, cursor=(resume or {}).get(str(shard))) for shard in work_queue.shards()]
        runs = [r for r in runs if r.cursor != DONE]

        done = run_parallel(lambda r: _page_through(table, queue, "queued", r, above, upto, deadline, _publish), runs)
        sent = sum(r.sent for r in done)
        cursors = {str(r.shard): r.cursor for r in done if r.cursor != DONE}
    if cursors:
        # Out of time: the rest in a continuation (shards already done are not reread).
        finished = {str(s): DONE for s in work_queue.shards() if str(s) not in cursors}
        queue.send([Outgoing(messages.slot(slot, resume={**finished, **cursors}))])
        log.info("slot %s: %d sent, %d shards continue", slot, sent, len(cursors))
    early = (at - now).total_seconds()
    if 0 < early <= MAX_SQS_DELAY and resume is None:
        queue.send([Outgoing(messages.slot(slot), delay=early)])
    return sent


def sweep(table: Table, queue: Queue, now: datetime, timings: Timings,
          budget: timedelta = FANOUT_BUDGET) -> dict[str, int]:
    """Due posts that no trigger fired (older than `sweep_grace`: younger ones
    are their slot's), and posts whose worker's lease ran out. What does not
    fit in the budget waits for the next run, a minute later."""
    deadline = now + budget
    overdue = clock.to_storage(now - timedelta(seconds=timings.sweep_grace))

    queued = run_parallel(lambda shard: _page_through(table, queue, "queued", ShardRun(shard), None, overdue,
                                                      deadline, _publish), list(work_queue.shards()))
    counts = {"recovered": 0, "reindexed": 0}
    lock = threading.Lock()

    def tally(name: str) -> None:
        with lock:
            counts[name] += 1

    def recover(entries: list[work_queue.Entry]) -> list[Outgoing]:
        """The index has keys only: read the posts, take over those whose lease
        really ended; one whose lease was extended moves to its end instead."""
        out: list[Outgoing] = []
        posts = work_queue.items_of(table, entries) if entries else {}
        at = clock.now()
        for entry in entries:
            item = posts.get(entry.post_id)
            if item is None or item.get("status") != "publishing":
                continue
            lease_until = str(item.get("leaseUntil") or "")
            if lease_until <= clock.to_storage(at):
                taken = post_leases.recover(table, item, at, timings.lease)
                if taken is not None:
                    token, action = taken
                    out.append(Outgoing(messages.step(entry.post_id, token, action)))
                    tally("recovered")
            elif post_leases.reindex(table, entry.post_id, entry.sort_key, lease_until, at):
                tally("reindexed")
        return out

    run_parallel(lambda shard: _page_through(table, queue, "publishing", ShardRun(shard), None,
                                             clock.to_storage(now), deadline, recover), list(work_queue.shards()))
    return {"queued": sum(r.sent for r in queued), **counts}
