"""Idempotency-Key handling (decisions.md, "Idempotency"): the rules.

A record per (API key id, method + route template, key): reserved atomically as
`in_progress`, completed with the stored response (for schedule/publish inside
the same transaction as the rows), replayed for 24 h. The records themselves
are behind the `IdempotencyRecords` port (domain/ports.py); store/idempotency.py
is the DynamoDB side.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from layers_shared import errors

TTL_SECONDS = 24 * 3600
LEASE_SECONDS = 60  # longer than any API Lambda may run
STORABLE = {404, 409, 422}
# 409s that say "retry": another writer got in between. Not a final answer.
TRANSIENT_CONFLICTS = {"CONCURRENT_UPDATE", "IDEMPOTENCY_IN_PROGRESS"}
MAX_KEY_LENGTH = 255


def validate_key(value: str | None) -> str | None:
    if value is None:
        return None
    if value == "" or len(value) > MAX_KEY_LENGTH or not value.isprintable():
        raise errors.validation([errors.issue(
            "headers.Idempotency-Key", "invalid_idempotency_key",
            "must be a printable string of 1 to 255 characters (a UUID is recommended)")])
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(path_params: dict[str, str], body: Any) -> str:
    payload = canonical_json({"path": path_params, "body": body})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def is_storable(status: int, body: Any = None) -> bool:
    if status == 409 and isinstance(body, dict):
        details = (body.get("error") or {}).get("details") or {}
        if details.get("reason") in TRANSIENT_CONFLICTS:
            return False
    return 200 <= status < 300 or status in STORABLE


@dataclass
class StoredResponse:
    status: int
    body: Any
    headers: dict[str, str]


_DYNAMO = {"Reservation": "DynamoReservation", "begin": "begin", "commit": "commit", "CommitFailed": "CommitFailed"}


def __getattr__(name: str) -> Any:
    """The DynamoDB side under its old names, for callers that have not moved to
    the port yet (webhooks/service.py, services/schedule_content.py, approval.py).
    Loaded on first use: a request without an Idempotency-Key never needs it."""
    if name in _DYNAMO:
        from layers_shared.store import idempotency as dynamo

        return getattr(dynamo, _DYNAMO[name])
    raise AttributeError(name)
