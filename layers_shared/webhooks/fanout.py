"""Outbox item -> one delivery per subscribed active endpoint -> the queue.

Runs on the table's stream (filtered to inserted `EVT` items). The delivery
id is derived from the event and the endpoint and put under
`attribute_not_exists`, so a stream batch handed over twice creates no second
delivery; its message is sent again, which the delivery's attempt counter
makes harmless."""
from __future__ import annotations

import time
from typing import Any

from layers_shared import clock
from layers_shared.store import codec
from layers_shared.store.table import Table
from layers_shared.webhooks import queue, store


def outbox_items(records: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(record id, outbox item) of the inserts among stream records."""
    found = []
    for record in records:
        image = (record.get("dynamodb") or {}).get("NewImage")
        if record.get("eventName") != "INSERT" or not image:
            continue
        item = codec.deserialize(image)
        if item and item.get("type") == "EVT":
            found.append((str((record.get("dynamodb") or {}).get("SequenceNumber", "")), item))
    return found


def wants(endpoint: dict[str, Any], event: dict[str, Any]) -> bool:
    if event.get("endpointId"):  # a test ping or a replay names its endpoint
        return endpoint["id"] == event["endpointId"]
    if endpoint.get("status") != "active" or event["type"] not in (endpoint.get("events") or []):
        return False
    return not endpoint.get("projectId") or endpoint["projectId"] == event.get("projectId")


def fan_out(table: Table, item: dict[str, Any]) -> list[str]:
    """The delivery ids planned for one outbox item (new or found again)."""
    endpoints = store.endpoints_of(table, item["organizationId"])
    now = clock.now()
    planned: list[tuple[dict[str, Any], float]] = []
    ids = []
    for event in item.get("events") or []:
        for endpoint in endpoints:
            if not wants(endpoint, event):
                continue
            delivery_id = store.fanout_delivery_id(event["id"], endpoint["id"])
            record = store.new_delivery_item(delivery_id, endpoint, event, now,
                                             replay_of=event.get("replayOfDelivery"))
            created = store.put_delivery(table, record)
            if not created:
                existing = store.get_delivery(table, delivery_id)
                if not existing or existing.get("status") != "pending" or existing.get("attempts"):
                    continue  # already under way or done
            ids.append(delivery_id)
            planned.append((queue.message(delivery_id, 1, time.time()), 0))
    if planned:
        queue.send(planned)
    return ids


def handle(table: Table, records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Stream batch -> batchItemFailures (the failed record and every later one
    are handed over again; earlier ones are done)."""
    for sequence, item in outbox_items(records):
        try:
            fan_out(table, item)
        except Exception:
            return [{"itemIdentifier": sequence}]
    return []
