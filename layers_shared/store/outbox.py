"""The webhook outbox in the single table (docs/adr/0070): one item
`EVT#<change key>` per change that raises events, written only once, in the
same transaction as the change (or on its own for a test ping or a replay:
the `WebhookOutbox` port). The table's stream hands each new item to the
fan-out, decoded here.

`tx_put` is the item as a TransactWriteItems entry for the adapters whose
change raises events (posts, containers, the publisher's terminal write,
an account turning reauth_required); webhooks/outbox.py re-exports it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from layers_shared import clock
from layers_shared.domain.ports import ChangeEvents, Remember, StaleWrite
from layers_shared.store import codec
from layers_shared.store.table import Table
from layers_shared.webhooks.rules import KEEP_SECONDS

KIND = "EVT"


def outbox_key(change: str) -> dict[str, str]:
    return {"PK": f"{KIND}#{change}", "SK": "META"}


def item(change: str, organization_id: str, events: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {**outbox_key(change), "type": KIND, "organizationId": organization_id, "events": events,
            "createdAt": clock.to_storage(now), "expiresAt": clock.epoch_seconds(now) + KEEP_SECONDS}


def tx_put(table: Any, change: str, organization_id: str, events: list[dict[str, Any]],
           now: datetime) -> dict[str, Any]:
    """The outbox item as a TransactWriteItems entry: only ever written once, so a
    retried or raced change is canceled as a whole and raises nothing twice."""
    return table.tx_put(item(change, organization_id, events, now), condition="attribute_not_exists(PK)")


class DynamoWebhookOutbox:
    def __init__(self, table: Table):
        self.table = table

    def add(self, events: ChangeEvents, remember: Remember | None = None) -> None:
        # Imported here: the publisher's terminal write imports this module for tx_put alone.
        from layers_shared.store.idempotency import CommitFailed, commit

        put = tx_put(self.table, events.change, events.organization_id, events.events, events.at)
        try:
            commit(self.table, [put], remember.reservation if remember else None,
                   remember.answer if remember else None)
        except CommitFailed:
            raise StaleWrite() from None


def stream_changes(records: list[dict[str, Any]]) -> list[tuple[str, ChangeEvents]]:
    """(sequence number, the change's events) of every outbox item inserted among
    stream records (NEW_IMAGE); anything else is not the fan-out's business."""
    found = []
    for record in records:
        stream = record.get("dynamodb") or {}
        image = stream.get("NewImage")
        if record.get("eventName") != "INSERT" or not image:
            continue
        stored = codec.deserialize(image)
        if not stored or stored.get("type") != KIND:
            continue
        at = clock.from_storage(stored.get("createdAt"))
        assert at is not None
        found.append((str(stream.get("SequenceNumber", "")),
                      ChangeEvents(stored["PK"].removeprefix(f"{KIND}#"), stored["organizationId"],
                                   list(stored.get("events") or []), at)))
    return found
