"""The work queue: the sparse GSI2, keys only, sharded.

An entry is `WQ#<status>#<shard>` / `<instant>#<postId>`: a `queued` post at
its `scheduledFor`, a `publishing` post at the end of the lease it was last
indexed with. The index carries keys only, so a post's index writes are its
entering the queue, a claim (queued -> publishing), a recovery and its
leaving, whatever else is written to it (docs/adr/0090).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layers_shared import config
from layers_shared.store import keys
from layers_shared.store.table import Table

INDEX = "GSI2"
PAGE = 1000  # entries per Query call: ~120 bytes each, far below the 1 MB page


@dataclass(frozen=True)
class Entry:
    post_id: str
    instant: str   # scheduledFor (queued) or the indexed lease end (publishing)
    sort_key: str  # as indexed: what a conditional move names


def shards() -> range:
    return range(config.work_queue_shards())


def page(table: Table, status: str, shard: int, *, above: str | None, upto: str,
         start: dict[str, Any] | None = None, limit: int | None = None) -> tuple[list[Entry], dict[str, Any] | None]:
    """Entries of one shard with `above < instant <= upto` (instants in storage
    form; `above` None = from the start), oldest first, and where to resume."""
    upper = upto + "#~"  # '~' sorts after every id character
    if above is None:
        condition, values = "#sk <= :upper", {":upper": upper}
    else:
        condition, values = "#sk BETWEEN :lower AND :upper", {":lower": above + "#~", ":upper": upper}
    found, last = table.query(INDEX, "GSI2PK", keys.work_queue(status, shard), sort_name="GSI2SK",
                              sort_condition=condition, sort_values=values, start=start, limit=limit or PAGE)
    return [_entry(item) for item in found], last


def _entry(item: dict[str, Any]) -> Entry:
    sort_key = str(item["GSI2SK"])
    instant, _, post_id = sort_key.rpartition("#")
    return Entry(post_id=post_id, instant=instant, sort_key=sort_key)


def items_of(table: Table, entries: list[Entry]) -> dict[str, dict[str, Any]]:
    """The posts behind entries (the index carries keys only), by id."""
    found = table.batch_get(keys.scheduled_post(e.post_id) for e in entries)
    return {item["id"]: item for item in found.values()}
