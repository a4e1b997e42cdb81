"""Where a stashed schedule's targets live when they do not fit on the container.

A stash may hold 50 targets with two 4000-character overrides each (up to
~1.6 MB of UTF-8), far past DynamoDB's 400 KB item limit. Small stashes stay
inline on the container as before; a large one keeps only the target ids on
the container (enough for views, `stashed_ids` and the approve condition) and
puts the full targets, as JSON text cut into chunks, in their own items
written in the same transaction. Chunks are never updated: a new stash writes
new ones, and old ones expire by TTL.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from layers_shared import clock
from layers_shared.store import keys
from layers_shared.store.table import Table

INLINE_LIMIT = 200_000   # bytes of the stash kept on the container item
CHUNK_BYTES = 300_000    # bytes of target JSON per chunk item
CHUNK_TTL = timedelta(days=400)  # past the 365-day horizon of scheduledFor


class StashLost(Exception):
    """The chunks of a stash are gone (expired): it can no longer be promoted."""


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
