"""Webhook deliveries in the single table: the DynamoDB side of the
`WebhookDeliveries` port (webhooks/ports.py, docs/adr/0070).

A delivery is `WHD#<uuid>` with a TTL of rules.KEEP_SECONDS; GSI1
`WHE#<endpoint>#D` / `<createdAt>#<id>` lists an endpoint's, newest first.
Every attempt is claimed and recorded under a condition on the attempt count,
so duplicate queue messages and a holder that lost its lease change nothing.
"""
from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from layers_shared import clock
from layers_shared.store.table import ConditionFailed, Table
from layers_shared.webhooks import rules
from layers_shared.webhooks.ports import AttemptOutcome, Delivery, DeliveryListQuery, DeliveryPage, position

DELIVERY = "WHD"
_FIELDS = tuple(f.name for f in fields(Delivery))
# A page reads at most PAGE_READS Queries of PAGE_READ_SIZE items (filters apply after the read).
PAGE_READ_SIZE, PAGE_READS = 100, 5


def delivery_key(delivery_id: str) -> dict[str, str]:
    return {"PK": f"{DELIVERY}#{delivery_id}", "SK": "META"}


def endpoint_deliveries(endpoint_id: str) -> str:
    return f"WHE#{endpoint_id}#D"


def to_item(delivery: Delivery) -> dict[str, Any]:
    stored = {k: v for k, v in asdict(delivery).items() if v is not None}
    created = clock.parse_instant(delivery.createdAt)
    return {**delivery_key(delivery.id), "type": DELIVERY, **stored,
            "GSI1PK": endpoint_deliveries(delivery.endpointId), "GSI1SK": position(delivery),
            "expiresAt": clock.epoch_seconds(created) + rules.KEEP_SECONDS}


def from_item(stored: dict[str, Any] | None) -> Delivery | None:
    if stored is None:
        return None
    found = {k: stored[k] for k in _FIELDS if k in stored}
    found["data"] = dict(found.get("data") or {})
    found["attempts"] = int(found.get("attempts") or 0)
    return Delivery(**found)


class DynamoWebhookDeliveries:
    def __init__(self, table: Table, read_size: int = PAGE_READ_SIZE, reads: int = PAGE_READS):
        self.table = table
        self.read_size, self.reads = read_size, reads

    def add(self, delivery: Delivery) -> bool:
        try:
            self.table.put(to_item(delivery), condition="attribute_not_exists(PK)")
            return True
        except ConditionFailed:
            return False

    def get(self, delivery_id: str, *, consistent: bool = True) -> Delivery | None:
        return from_item(self.table.get(delivery_key(delivery_id), consistent=consistent))

    def claim(self, delivery_id: str, attempt: int, now: str, lease_until: str) -> bool:
        try:
            self.table.update(delivery_key(delivery_id), "SET #s = :delivering, leaseUntil = :lease",
                              names={"#s": "status", "#n": "attempts"},
                              values={":delivering": "delivering", ":pending": "pending", ":made": attempt - 1,
                                      ":now": now, ":lease": lease_until},
                              condition="#n = :made AND (#s = :pending OR (#s = :delivering AND leaseUntil < :now))")
            return True
        except ConditionFailed:
            return False

    def record_attempt(self, delivery_id: str, attempt: int, outcome: AttemptOutcome) -> bool:
        sets: dict[str, Any] = {"attempts": attempt, "lastResponseAt": outcome.at,
                                "lastResponseStatus": outcome.response_status,
                                "lastErrorMessage": outcome.error_message, "status": outcome.status}
        # nextRetryAt exists only while pending, leaseUntil only while delivering.
        remove = ["leaseUntil"]
        if outcome.status == "pending":
            sets["nextRetryAt"] = outcome.next_retry_at
        else:
            remove.append("nextRetryAt")
        if outcome.status == "delivered":
            sets["deliveredAt"] = outcome.at
        names = {f"#f{i}": k for i, k in enumerate(sets)} | {"#n": "attempts", "#s": "status"}
        values = {f":v{i}": v for i, v in enumerate(sets.values())} | {":made": attempt - 1,
                                                                       ":delivering": "delivering"}
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets))) + " REMOVE " + ", ".join(remove)
        try:
            self.table.update(delivery_key(delivery_id), expression, names=names, values=values,
                              condition="#n = :made AND #s = :delivering")
            return True
        except ConditionFailed:
            return False

    def abandon(self, delivery_id: str, stamp: str) -> bool:
        try:
            self.table.update(delivery_key(delivery_id),
                              "SET #s = :a, abandonedAt = :now REMOVE nextRetryAt, leaseUntil",
                              names={"#s": "status"}, values={":a": "abandoned", ":now": stamp,
                                                              ":p": "pending", ":d": "delivering"},
                              condition="#s IN (:p, :d)")
            return True
        except ConditionFailed:
            return False

    def unfinished(self, endpoint_id: str) -> list[Delivery]:
        found: list[Delivery] = []
        last = None
        while True:
            page, last = self.table.query("GSI1", "GSI1PK", endpoint_deliveries(endpoint_id), start=last,
                                          filter_expression="#s IN (:p, :d)", filter_names={"#s": "status"},
                                          filter_values={":p": "pending", ":d": "delivering"})
            found += [d for d in map(from_item, page) if d is not None]
            if not last:
                return found

    def page(self, query: DeliveryListQuery) -> DeliveryPage:
        filters, names, values = [], {}, {}
        if query.event_type:
            filters.append("#t = :t")
            names["#t"], values[":t"] = "eventType", query.event_type
        if query.status:
            filters.append("#s = :s")
            names["#s"], values[":s"] = "status", query.status
        after: dict[str, Any] = {}
        if query.after:
            after = {"sort_name": "GSI1SK", "sort_condition": "#sk < :after", "sort_values": {":after": query.after}}
        found: list[dict[str, Any]] = []
        start = None
        for _ in range(self.reads):  # bounded reads per request: a short page then carries a position
            batch, start = self.table.query(
                "GSI1", "GSI1PK", endpoint_deliveries(query.endpoint_id), forward=False, limit=self.read_size,
                start=start, filter_expression=" AND ".join(filters) or None, filter_names=names or None,
                filter_values=values or None, **after)
            found += batch
            if len(found) >= query.limit or not start:
                break
        page = [d for d in map(from_item, found[:query.limit]) if d is not None]
        if len(found) > query.limit:
            resume = position(page[-1])
        elif start:  # what was read after the page's last item was filtered out
            resume = start["GSI1SK"]
        else:
            resume = None
        return DeliveryPage(page, resume)
