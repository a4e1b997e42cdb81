"""The endpoint and delivery resources of webhooks.md, from their records:
what every route answers (the schemas are models.py's)."""
from __future__ import annotations

from typing import Any

from layers_shared import clock
from layers_shared.webhooks.ports import Delivery, Endpoint


def endpoint(found: Endpoint) -> dict[str, Any]:
    return {"id": found.id, "url": found.url, "events": list(found.events), "description": found.description,
            "projectId": found.projectId, "status": found.status, "metadata": dict(found.metadata),
            "consecutiveFailureCount": found.consecutiveFailureCount,
            "createdAt": clock.to_wire(found.createdAt), "updatedAt": clock.to_wire(found.updatedAt)}


def delivery(found: Delivery) -> dict[str, Any]:
    view = {"id": found.id, "endpointId": found.endpointId, "eventId": found.eventId,
            "eventType": found.eventType, "status": found.status, "attempts": found.attempts,
            "nextRetryAt": clock.to_wire(found.nextRetryAt) if found.status == "pending" else None,
            "deliveredAt": clock.to_wire(found.deliveredAt), "abandonedAt": clock.to_wire(found.abandonedAt),
            "lastResponseStatus": found.lastResponseStatus, "lastResponseAt": clock.to_wire(found.lastResponseAt),
            "lastErrorMessage": found.lastErrorMessage, "createdAt": clock.to_wire(found.createdAt)}
    if found.replayOf:
        view["replayOf"] = found.replayOf
    return view
