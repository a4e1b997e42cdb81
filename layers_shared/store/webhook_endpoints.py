"""Webhook endpoints in the single table: the DynamoDB side of the
`WebhookEndpoints` port (webhooks/ports.py, docs/adr/0070).

- an endpoint is `WHE#<uuid>`; GSI1 `ORG#<org>#WHE` / `<createdAt>#<id>` lists an
  organization's, newest first (the list route and the fan-out);
- `WHC#<org>` counts them, in the same transaction as each create and delete,
  so that the count's condition holds the limit of rules.MAX_ENDPOINTS under
  concurrent creates.
"""
from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from layers_shared.domain.ports import Remember, StaleWrite
from layers_shared.store import codec
from layers_shared.store.idempotency import CommitFailed, commit
from layers_shared.store.table import ConditionFailed, Table
from layers_shared.webhooks import rules
from layers_shared.webhooks.ports import EDITABLE, Endpoint, EndpointLimit, position

ENDPOINT, COUNTER = "WHE", "WHC"
_FIELDS = tuple(f.name for f in fields(Endpoint))


def endpoint_key(endpoint_id: str) -> dict[str, str]:
    return {"PK": f"{ENDPOINT}#{endpoint_id}", "SK": "META"}


def counter_key(organization_id: str) -> dict[str, str]:
    return {"PK": f"{COUNTER}#{organization_id}", "SK": "META"}


def org_endpoints(organization_id: str) -> str:
    return f"ORG#{organization_id}#WHE"


def to_item(endpoint: Endpoint) -> dict[str, Any]:
    stored = {k: v for k, v in asdict(endpoint).items() if v is not None or k in ("description", "projectId")}
    stored["events"] = list(endpoint.events)
    return {**endpoint_key(endpoint.id), "type": ENDPOINT, **stored,
            "GSI1PK": org_endpoints(endpoint.organizationId), "GSI1SK": position(endpoint)}


def from_item(stored: dict[str, Any] | None) -> Endpoint | None:
    if stored is None:
        return None
    found = {k: stored[k] for k in _FIELDS if k in stored}
    found["events"] = tuple(found.get("events") or ())
    found["metadata"] = dict(found.get("metadata") or {})
    found.setdefault("description", None)
    found.setdefault("projectId", None)
    found.setdefault("status", "active")
    found["consecutiveFailureCount"] = int(found.get("consecutiveFailureCount") or 0)
    found.setdefault("env", "live")
    return Endpoint(**found)


class DynamoWebhookEndpoints:
    def __init__(self, table: Table):
        self.table = table

    def get(self, endpoint_id: str, *, consistent: bool = True) -> Endpoint | None:
        return from_item(self.table.get(endpoint_key(endpoint_id), consistent=consistent))

    def of_organization(self, organization_id: str) -> list[Endpoint]:
        found, last = self.table.query("GSI1", "GSI1PK", org_endpoints(organization_id), forward=False)
        while last:
            more, last = self.table.query("GSI1", "GSI1PK", org_endpoints(organization_id), forward=False,
                                          start=last)
            found += more
        return [e for e in map(from_item, found) if e is not None]

    def create(self, endpoint: Endpoint, remember: Remember | None = None) -> None:
        tx = [
            self.table.tx_put(to_item(endpoint), condition="attribute_not_exists(PK)"),
            self.table.tx_update(counter_key(endpoint.organizationId), "SET #n = if_not_exists(#n, :zero) + :one",
                                 names={"#n": "count"}, values={":zero": 0, ":one": 1, ":max": rules.MAX_ENDPOINTS},
                                 condition="attribute_not_exists(#n) OR #n < :max"),
        ]
        try:
            _commit(self.table, tx, remember)
        except CommitFailed as failed:
            raise (EndpointLimit() if 1 in failed.failed else StaleWrite()) from None

    def update(self, endpoint: Endpoint, changes: dict[str, Any], remember: Remember | None = None) -> None:
        unknown = set(changes) - set(EDITABLE) - {"updatedAt"}
        assert not unknown, f"not editable: {sorted(unknown)}"
        sets = {k: list(v) if k == "events" else v for k, v in changes.items()}
        names = {f"#f{i}": k for i, k in enumerate(sets)} | {"#u": "updatedAt"}
        values: dict[str, Any] = {f":v{i}": v for i, v in enumerate(sets.values())} | {":at": endpoint.updatedAt}
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
        tx = [self.table.tx_update(endpoint_key(endpoint.id), expression, names=names, values=values,
                                   condition="attribute_exists(PK) AND #u = :at")]
        try:
            _commit(self.table, tx, remember)
        except CommitFailed:
            raise StaleWrite() from None

    def rotate(self, endpoint: Endpoint, ciphertext: str, previous_until: str, stamp: str,
               remember: Remember | None = None) -> None:
        tx = [self.table.tx_update(
            endpoint_key(endpoint.id),
            "SET secretCiphertext = :new, previousSecretCiphertext = :old, previousSecretUntil = :until, #u = :now",
            names={"#u": "updatedAt"},
            values={":new": ciphertext, ":old": endpoint.secretCiphertext, ":until": previous_until, ":now": stamp},
            condition="secretCiphertext = :old")]
        try:
            _commit(self.table, tx, remember)
        except CommitFailed:
            raise StaleWrite() from None

    def delete(self, endpoint: Endpoint, remember: Remember | None = None) -> None:
        tx = [
            {"Delete": {"TableName": self.table.name, "Key": codec.serialize(endpoint_key(endpoint.id)),
                        "ConditionExpression": "attribute_exists(PK)"}},
            self.table.tx_update(counter_key(endpoint.organizationId), "SET #n = #n - :one",
                                 names={"#n": "count"}, values={":one": 1, ":zero": 0}, condition="#n > :zero"),
        ]
        try:
            _commit(self.table, tx, remember)
        except CommitFailed:
            raise StaleWrite() from None

    def count_failure(self, endpoint_id: str) -> int | None:
        try:
            updated = self.table.update(endpoint_key(endpoint_id), "ADD consecutiveFailureCount :one",
                                        values={":one": 1}, condition="attribute_exists(PK)", return_new=True)
        except ConditionFailed:
            return None
        return int((updated or {}).get("consecutiveFailureCount") or 0)

    def reset_failures(self, endpoint_id: str) -> None:
        try:
            self.table.update(endpoint_key(endpoint_id), "SET consecutiveFailureCount = :zero",
                              values={":zero": 0}, condition="attribute_exists(PK) AND consecutiveFailureCount > :zero")
        except ConditionFailed:
            pass  # already 0 (the usual case: a write only when there is something to reset) or deleted

    def auto_pause(self, endpoint_id: str, stamp: str) -> bool:
        try:
            self.table.update(endpoint_key(endpoint_id), "SET #s = :paused, updatedAt = :now",
                              names={"#s": "status"}, values={":paused": "auto_paused", ":active": "active",
                                                              ":now": stamp},
                              condition="#s = :active")
            return True
        except ConditionFailed:
            return False


def _commit(table: Table, tx: list[dict[str, Any]], remember: Remember | None) -> None:
    """The writes and, with an Idempotency-Key, its answer, in one transaction."""
    commit(table, tx, remember.reservation if remember else None, remember.answer if remember else None)
