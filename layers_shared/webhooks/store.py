"""Webhook endpoints and deliveries in the single table (docs/adr/0070).

- endpoint `WHE#<uuid>`; GSI1 `ORG#<org>#WHE` / `<createdAt>#<id>` (list,
  newest first, and the fan-out's "endpoints of this organization");
- the organization's endpoint count `WHC#<org>` (the limit of 20, kept in the
  same transaction as each create and delete);
- delivery `WHD#<uuid>`; GSI1 `WHE#<endpoint>#D` / `<createdAt>#<id>`; TTL 30 days.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from layers_shared import clock, ids
from layers_shared.store.table import ConditionFailed, Table
from layers_shared.webhooks import rules

ENDPOINT, DELIVERY, COUNTER = "WHE", "WHD", "WHC"
_DELIVERY_NAMESPACE = uuid.UUID("5a7c3c64-2f0e-4a63-9b7e-0d7b1f1c9e42")


def endpoint_key(endpoint_id: str) -> dict[str, str]:
    return {"PK": f"{ENDPOINT}#{endpoint_id}", "SK": "META"}


def delivery_key(delivery_id: str) -> dict[str, str]:
    return {"PK": f"{DELIVERY}#{delivery_id}", "SK": "META"}


def counter_key(organization_id: str) -> dict[str, str]:
    return {"PK": f"{COUNTER}#{organization_id}", "SK": "META"}


def org_endpoints(organization_id: str) -> str:
    return f"ORG#{organization_id}#WHE"


def endpoint_deliveries(endpoint_id: str) -> str:
    return f"{ENDPOINT}#{endpoint_id}#D"


def fanout_delivery_id(event_id: str, endpoint_id: str) -> str:
    """One delivery per (event, endpoint), however often the stream hands the event over."""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{event_id}|{endpoint_id}"))


def path_uuid(value: str | None) -> str | None:
    """Endpoint and delivery ids are bare lowercase UUIDs; anything else names nothing."""
    return value.lower() if ids.is_uuid(value) else None


# -- endpoints ---------------------------------------------------------------------------

def get_endpoint(table: Table, organization_id: str, endpoint_id: str | None,
                 consistent: bool = True) -> dict[str, Any] | None:
    """The endpoint if it belongs to the organization (else None: a 404 to the caller)."""
    if endpoint_id is None:
        return None
    found = table.get(endpoint_key(endpoint_id), consistent=consistent)
    if not found or found.get("organizationId") != organization_id:
        return None
    return found


def endpoints_of(table: Table, organization_id: str) -> list[dict[str, Any]]:
    """Every endpoint of the organization, newest first (at most 20: one Query)."""
    found, last = table.query("GSI1", "GSI1PK", org_endpoints(organization_id), forward=False)
    while last:
        more, last = table.query("GSI1", "GSI1PK", org_endpoints(organization_id), forward=False, start=last)
        found += more
    return found


def new_endpoint_item(endpoint_id: str, organization_id: str, env: str, fields: dict[str, Any],
                      ciphertext: str, now: datetime) -> dict[str, Any]:
    stamp = clock.to_storage(now)
    return {**endpoint_key(endpoint_id), "type": ENDPOINT, "id": endpoint_id, "organizationId": organization_id,
            "env": env, "url": fields["url"], "events": list(fields["events"]),
            "description": fields.get("description"), "projectId": fields.get("projectId"),
            "metadata": dict(fields.get("metadata") or {}), "status": "active", "consecutiveFailureCount": 0,
            "secretCiphertext": ciphertext, "createdAt": stamp, "updatedAt": stamp,
            "GSI1PK": org_endpoints(organization_id), "GSI1SK": f"{stamp}#{endpoint_id}"}


def create_endpoint(table: Table, item: dict[str, Any], extra_tx: list[dict[str, Any]] | None = None) -> list:
    """The put and the count, as transaction items: the count holds the limit."""
    return [
        table.tx_put(item, condition="attribute_not_exists(PK)"),
        table.tx_update(counter_key(item["organizationId"]), "SET #n = if_not_exists(#n, :zero) + :one",
                        names={"#n": "count"}, values={":zero": 0, ":one": 1, ":max": rules.MAX_ENDPOINTS},
                        condition="attribute_not_exists(#n) OR #n < :max"),
        *(extra_tx or []),
    ]


def delete_endpoint(table: Table, endpoint: dict[str, Any]) -> list:
    return [
        _tx_delete(table, endpoint_key(endpoint["id"])),
        table.tx_update(counter_key(endpoint["organizationId"]), "SET #n = #n - :one",
                        names={"#n": "count"}, values={":one": 1, ":zero": 0}, condition="#n > :zero"),
    ]


def _tx_delete(table: Table, key: dict[str, str]) -> dict[str, Any]:
    from layers_shared.store import codec

    return {"Delete": {"TableName": table.name, "Key": codec.serialize(key),
                       "ConditionExpression": "attribute_exists(PK)"}}


def endpoint_view(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "url": item["url"], "events": list(item.get("events") or []),
            "description": item.get("description"), "projectId": item.get("projectId"),
            "status": item.get("status", "active"), "metadata": dict(item.get("metadata") or {}),
            "consecutiveFailureCount": int(item.get("consecutiveFailureCount") or 0),
            "createdAt": clock.to_wire(item["createdAt"]), "updatedAt": clock.to_wire(item["updatedAt"])}


# -- deliveries --------------------------------------------------------------------------

def new_delivery_item(delivery_id: str, endpoint: dict[str, Any], event: dict[str, Any], now: datetime,
                      replay_of: str | None = None) -> dict[str, Any]:
    stamp = clock.to_storage(now)
    item = {**delivery_key(delivery_id), "type": DELIVERY, "id": delivery_id, "endpointId": endpoint["id"],
            "organizationId": endpoint["organizationId"], "eventId": event["id"], "eventType": event["type"],
            "eventCreatedAt": event["createdAt"], "data": event.get("data") or {}, "status": "pending",
            "attempts": 0, "nextRetryAt": stamp, "createdAt": stamp,
            "GSI1PK": endpoint_deliveries(endpoint["id"]), "GSI1SK": f"{stamp}#{delivery_id}",
            "expiresAt": clock.epoch_seconds(now) + rules.KEEP_SECONDS}
    if replay_of:
        item["replayOf"] = replay_of
        item["replayOfEvent"] = event.get("replayOf")
    return item


def put_delivery(table: Table, item: dict[str, Any]) -> bool:
    """False when it exists already (a stream retry)."""
    try:
        table.put(item, condition="attribute_not_exists(PK)")
        return True
    except ConditionFailed:
        return False


def get_delivery(table: Table, delivery_id: str, consistent: bool = True) -> dict[str, Any] | None:
    return table.get(delivery_key(delivery_id), consistent=consistent)


def delivery_view(item: dict[str, Any]) -> dict[str, Any]:
    view = {"id": item["id"], "endpointId": item["endpointId"], "eventId": item["eventId"],
            "eventType": item["eventType"], "status": item["status"], "attempts": int(item.get("attempts") or 0),
            "nextRetryAt": clock.to_wire(item.get("nextRetryAt")) if item["status"] == "pending" else None,
            "deliveredAt": clock.to_wire(item.get("deliveredAt")),
            "abandonedAt": clock.to_wire(item.get("abandonedAt")),
            "lastResponseStatus": item.get("lastResponseStatus"),
            "lastResponseAt": clock.to_wire(item.get("lastResponseAt")),
            "lastErrorMessage": item.get("lastErrorMessage"),
            "createdAt": clock.to_wire(item["createdAt"])}
    if item.get("replayOf"):
        view["replayOf"] = item["replayOf"]
    return view


def unfinished_deliveries(table: Table, endpoint_id: str) -> list[dict[str, Any]]:
    """Deliveries of the endpoint still waiting for an attempt (paged through)."""
    found: list[dict[str, Any]] = []
    last = None
    while True:
        page, last = table.query("GSI1", "GSI1PK", endpoint_deliveries(endpoint_id), start=last,
                                 filter_expression="#s IN (:p, :d)", filter_names={"#s": "status"},
                                 filter_values={":p": "pending", ":d": "delivering"})
        found += page
        if not last:
            return found


def abandon(table: Table, delivery_id: str, now: datetime) -> bool:
    """pending/delivering -> abandoned; False when it had finished meanwhile."""
    try:
        table.update(delivery_key(delivery_id), "SET #s = :a, abandonedAt = :now REMOVE nextRetryAt, leaseUntil",
                     names={"#s": "status"}, values={":a": "abandoned", ":now": clock.to_storage(now),
                                                     ":p": "pending", ":d": "delivering"},
                     condition="#s IN (:p, :d)")
        return True
    except ConditionFailed:
        return False


def abandon_unfinished(table: Table, endpoint_id: str, now: datetime) -> int:
    return sum(abandon(table, d["id"], now) for d in unfinished_deliveries(table, endpoint_id))
