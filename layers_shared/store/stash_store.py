"""Where a stashed schedule's targets live when they do not fit on the container.

A stash may hold 50 targets with two 4000-character overrides each (up to
~1.6 MB of UTF-8), far past DynamoDB's 400 KB item limit. Small stashes stay
inline on the container as before; a large one keeps only the target ids on
the container (enough for views, `stashed_ids` and the approve condition) and
puts the full targets, as JSON text cut into chunks, in their own items
written in the same transaction. Chunks are never updated: a new stash writes
new ones under a new stash id, and the transaction that replaces or consumes a
stash (a new schedule, approve, reject) also deletes its chunks, conditioned on
the container still holding that very stash. The TTL is only a backstop.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from layers_shared import clock
from layers_shared.domain import ports
from layers_shared.models.requests import MAX_TARGETS
from layers_shared.store import codec, keys
from layers_shared.store.table import Table

INLINE_LIMIT = 200_000   # bytes of the stash kept on the container item
CHUNK_BYTES = 300_000    # bytes of target JSON per chunk item
CHUNK_TTL = timedelta(days=400)  # past the 365-day horizon of scheduledFor
# The request limits bound a stash's target JSON below ~2.5 MB (every text field
# at its maximum length in the character JSON widens most, a six-byte \u
# escape), so 9 chunks; 10 leaves room for a new optional field.
MAX_CHUNKS = 10
# The largest transaction touching chunks: a schedule replacing a stash writes
# the container, checks up to MAX_TARGETS supplied ids, puts the new chunks,
# deletes the old ones and completes the Idempotency-Key. Approve writes the
# container, MAX_TARGETS rows, deletes the chunks and completes the key: less.
MAX_TRANSACTION_ITEMS = 1 + MAX_TARGETS + 2 * MAX_CHUNKS + 1
assert MAX_TRANSACTION_ITEMS <= 100, "over DynamoDB's TransactWriteItems limit"


# The chunks of a stash are gone (expired): it can no longer be promoted.
StashLost = ports.StashLost


def _chunk_key(container_id: str, stash_id: str, n: int) -> dict[str, str]:
    return keys.key("STASH", f"{container_id}#{stash_id}#{n}")


def _pieces(text: str) -> list[str]:
    """`text` cut into pieces of at most CHUNK_BYTES of UTF-8 (never inside a character)."""
    data = text.encode("utf-8")
    pieces, start = [], 0
    while start < len(data):
        end = min(start + CHUNK_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: step back
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces


def split(container_id: str, pending: dict[str, Any], now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(what goes on the container, the chunk items to put beside it)."""
    if len(json.dumps(pending, ensure_ascii=False).encode("utf-8")) <= INLINE_LIMIT:
        return pending, []
    stash_id = uuid.uuid4().hex
    pieces = _pieces(json.dumps(pending["targets"], ensure_ascii=False, separators=(",", ":")))
    expires = clock.epoch_seconds(now + CHUNK_TTL)
    chunks = [{**_chunk_key(container_id, stash_id, n), "type": "STASH", "text": piece, "expiresAt": expires}
              for n, piece in enumerate(pieces)]
    inline = {**pending, "targets": [{"scheduledPostId": t["scheduledPostId"]} for t in pending["targets"]],
              "targetsStashId": stash_id, "targetsChunks": len(chunks)}
    return inline, chunks


def load(table: Table, container_id: str, pending: dict[str, Any]) -> dict[str, Any]:
    """The stash with its full targets (reads the chunks when they are apart)."""
    count = int(pending.get("targetsChunks") or 0)
    if not count:
        return pending
    stash_id = str(pending["targetsStashId"])
    wanted = [_chunk_key(container_id, stash_id, n) for n in range(count)]
    found = table.batch_get(wanted)
    try:
        text = "".join(found[(k["PK"], k["SK"])]["text"] for k in wanted)
    except KeyError:
        raise StashLost() from None
    return {**pending, "targets": json.loads(text)}


def stash_id(pending: dict[str, Any] | None) -> str | None:
    """The id of a chunked stash's chunks; None for an inline stash or none."""
    if not pending or not pending.get("targetsChunks"):
        return None
    return str(pending["targetsStashId"])


def drop_items(table: Table, container_id: str, pending: dict[str, Any] | None) -> list[dict[str, Any]]:
    """TransactWriteItems entries deleting the chunks of `pending` (none when inline).

    Unconditional: a chunk already gone (expired) must not fail the decision."""
    sid = stash_id(pending)
    if sid is None:
        return []
    count = int(pending["targetsChunks"])  # type: ignore[index]
    return [{"Delete": {"TableName": table.name, "Key": codec.serialize(_chunk_key(container_id, sid, n))}}
            for n in range(count)]


def same_chunks_condition(pending: dict[str, Any] | None, names: dict[str, str],
                          values: dict[str, Any]) -> str:
    """A condition that holds while the container's stash has the chunks of
    `pending` (or, for an inline stash or none, no chunks): deleting chunks
    must never orphan those of a stash written after our read."""
    names["#ps"] = "pendingSchedule"
    sid = stash_id(pending)
    if sid is None:
        return "(attribute_not_exists(#ps) OR attribute_not_exists(#ps.targetsStashId))"
    values[":stashId"] = sid
    return "#ps.targetsStashId = :stashId"
