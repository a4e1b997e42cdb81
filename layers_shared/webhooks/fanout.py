"""Outbox item -> one delivery per subscribed active endpoint -> the queue.

Runs on the table's stream (filtered to inserted outbox items). The delivery
id is derived from the event and the endpoint, and a delivery is only added
when none has that id, so a stream batch handed over twice creates no second
delivery; its message is sent again, which the delivery's attempt counter
makes harmless."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from layers_shared import clock
from layers_shared.webhooks import queue, rules
from layers_shared.webhooks.ports import Delivery, Endpoint

if TYPE_CHECKING:
    from layers_shared.domain.ports import ChangeEvents
    from layers_shared.webhooks.ports import DeliveryQueue, WebhookDeliveries, WebhookEndpoints


@dataclass(frozen=True)
class Ports:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    queue: DeliveryQueue


def wants(endpoint: Endpoint, event: dict[str, Any]) -> bool:
    if event.get("endpointId"):  # a test ping or a replay names its endpoint
        return endpoint.id == event["endpointId"]
    if endpoint.status != "active" or event["type"] not in endpoint.events:
        return False
    return not endpoint.projectId or endpoint.projectId == event.get("projectId")


def new_delivery(delivery_id: str, endpoint: Endpoint, event: dict[str, Any], now: datetime) -> Delivery:
    """Pending, its first attempt due at once; a replay names the delivery and event it replays."""
    stamp = clock.to_storage(now)
    replay_of = event.get("replayOfDelivery")
    return Delivery(id=delivery_id, endpointId=endpoint.id, organizationId=endpoint.organizationId,
                    eventId=event["id"], eventType=event["type"], eventCreatedAt=event["createdAt"],
                    data=event.get("data") or {}, status="pending", attempts=0, createdAt=stamp, nextRetryAt=stamp,
                    replayOf=replay_of, replayOfEvent=event.get("replayOf") if replay_of else None)


def fan_out(ports: Ports, change: ChangeEvents) -> list[str]:
    """The delivery ids planned for one change's events (new or found again)."""
    endpoints = ports.endpoints.of_organization(change.organization_id)
    now = clock.now()
    planned: list[tuple[dict[str, Any], float]] = []
    ids = []
    for event in change.events:
        for endpoint in endpoints:
            if not wants(endpoint, event):
                continue
            delivery_id = rules.fanout_delivery_id(event["id"], endpoint.id)
            if not ports.deliveries.add(new_delivery(delivery_id, endpoint, event, now)):
                existing = ports.deliveries.get(delivery_id)
                if not existing or existing.status != "pending" or existing.attempts:
                    continue  # already under way or done
            ids.append(delivery_id)
            planned.append((queue.message(delivery_id, 1, time.time()), 0))
    if planned:
        ports.queue.send(planned)
    return ids


def handle(ports: Ports, changes: list[tuple[str, ChangeEvents]]) -> list[dict[str, str]]:
    """(stream sequence number, change) of a batch -> batchItemFailures (the failed
    record and every later one are handed over again; earlier ones are done)."""
    for sequence, change in changes:
        try:
            fan_out(ports, change)
        except Exception:
            return [{"itemIdentifier": sequence}]
    return []
