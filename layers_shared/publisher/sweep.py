"""Finding work in the table: slot fan-out and the sweeper.

Both read the sparse GSI2 work queue (`WQ#<status>#<shard>`, sorted by the
instant a post becomes due or its lease ends) and put one message per post on
the publish queue, so that a big slot is spread over many small invocations.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterator

from layers_shared import clock, config
from layers_shared.publisher import claim, messages
from layers_shared.publisher.queue import Outgoing, Queue
from layers_shared.publisher.settings import MAX_SQS_DELAY, Timings
from layers_shared.store import keys
from layers_shared.store.table import Table

INDEX = "GSI2"
SWEEP_LIMIT = 2000  # posts per sweep run; the rest waits a minute


def due(table: Table, status: str, bound: datetime, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Posts in the `status` work queue whose sort instant is <= bound, every shard."""
    upper = clock.to_storage(bound) + "#~"  # '~' sorts after every id character
    seen = 0
    for shard in range(config.work_queue_shards()):
        start = None
        while True:
            page, start = table.query(INDEX, "GSI2PK", keys.work_queue(status, shard), sort_name="GSI2SK",
                                      sort_condition="#sk <= :upper", sort_values={":upper": upper},
                                      start=start)
            for item in page:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if not start:
                break


def fan_out(table: Table, queue: Queue, slot: str, now: datetime) -> int:
    """A slot fired: one `publish` message per post due by then. A slot that
    fires early publishes only what is due now and parks itself until its time."""
    at = clock.parse_instant(slot)
    bound = min(at, now)
    found = [messages.publish(item["id"], item["scheduledFor"]) for item in due(table, "queued", bound)]
    out = [Outgoing(m) for m in found]
    early = (at - now).total_seconds()
    if early > 0 and early <= MAX_SQS_DELAY:
        out.append(Outgoing(messages.slot(slot), delay=early))
    queue.send(out)
    return len(found)


def sweep(table: Table, queue: Queue, now: datetime, timings: Timings, limit: int = SWEEP_LIMIT) -> dict[str, int]:
    """Due posts that no trigger fired, and posts whose worker's lease ran out."""
    forgotten = [Outgoing(messages.publish(item["id"], item["scheduledFor"]))
                 for item in due(table, "queued", now - timedelta(seconds=timings.sweep_grace), limit)]
    queue.send(forgotten)
    recovered = []
    for item in due(table, "publishing", now, limit):
        taken = claim.recover(table, item, now, timings.lease)
        if taken is not None:
            token, action = taken
            recovered.append(Outgoing(messages.step(item["id"], token, action)))
    queue.send(recovered)
    return {"queued": len(forgotten), "recovered": len(recovered)}
