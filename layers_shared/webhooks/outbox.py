"""Events as outbox items of the single table.

A state change that raises events adds ONE outbox item to its own conditional
write or transaction, written only once under a key derived from the change
(the post and its transition, the container and its decision, ...), so the
event cannot exist without its change, the change cannot commit without its
event, and a retried or raced change cannot raise it twice: the second write
is canceled as a whole.

One item carries every event of one change (a schedule of 50 targets raises
50 `post.scheduled`), so a transaction grows by one item, not fifty
(TransactWriteItems stops at 100). DynamoDB Streams hand the item to the
fan-out (fanout.py). The event builders here are pure; the item, its key and
its transaction entry are store/outbox.py's, re-exported under their old names
for the writers that raise events.
"""
from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime
from typing import Any, Iterable

from layers_shared import clock
from layers_shared.store.outbox import KIND, item, outbox_key, tx_put

__all__ = ["KIND", "event", "item", "new_event_id", "outbox_key", "post_data", "scheduled_events",
           "terminal_change", "terminal_event", "tx_put"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_event_id(at: datetime | None = None, seed: str | None = None) -> str:
    """`evt_` + a ULID; with `seed`, its random part is derived from it (so one
    change's events keep their ids when the builder is called again)."""
    millis = int((at.timestamp() if at else time.time()) * 1000)
    tail = hashlib.sha256(seed.encode()).digest()[:10] if seed else os.urandom(10)
    value = (millis << 80) | int.from_bytes(tail, "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "evt_" + "".join(reversed(chars))


def event(change: str, index: int, event_type: str, data: dict[str, Any], project_id: str | None,
          now: datetime) -> dict[str, Any]:
    return {"id": new_event_id(now, f"{change}#{index}"), "type": event_type,
            "createdAt": clock.to_wire(clock.to_storage(now)), "projectId": project_id, "data": data}


# -- event data (webhooks.md, Events) ----------------------------------------------------

def post_data(post: dict[str, Any]) -> dict[str, Any]:
    return {"scheduledPostId": post["id"], "containerId": post.get("containerId"),
            "projectId": post.get("projectId"), "socialAccountId": post.get("socialAccountId"),
            "platform": post.get("platform"), "mode": post.get("mode"),
            "scheduledFor": clock.to_wire(post.get("scheduledFor"))}


def scheduled_events(change: str, posts: Iterable[dict[str, Any]], now: datetime,
                     first_index: int = 0) -> list[dict[str, Any]]:
    return [event(change, first_index + i, "post.scheduled", post_data(p), p.get("projectId"), now)
            for i, p in enumerate(posts)]


def terminal_event(post: dict[str, Any], status: str, sets: dict[str, Any], now: datetime) -> dict[str, Any]:
    """post.published (published or draft) or post.failed, from the outcome's write."""
    data = post_data(post)
    change = terminal_change(post["id"])
    if status == "failed":
        error = sets.get("lastError") or {}
        data["error"] = {"code": error.get("code"), "message": error.get("message"),
                         "platformCode": error.get("platformCode")}
        return event(change, 0, "post.failed", data, post.get("projectId"), now)
    data.update({"status": status, "externalId": sets.get("externalId"), "externalUrl": sets.get("externalUrl"),
                 "publishedAt": clock.to_wire(sets.get("publishedAt"))})
    return event(change, 0, "post.published", data, post.get("projectId"), now)


def terminal_change(post_id: str) -> str:
    # A post reaches a terminal status once: the post id alone names the change.
    return f"{post_id}#terminal"
