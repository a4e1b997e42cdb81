"""What the sandbox delivered, kept in the table so every Lambda instance (and
the local stack's `GET /_local/sandbox/deliveries`) sees the same record."""
from __future__ import annotations

import uuid
from typing import Any

from layers_shared import clock
from layers_shared.store import keys
from layers_shared.store.table import Table

INDEX_KEY = "SANDBOX#DELIVERIES"
TTL_SECONDS = 7 * 24 * 3600


def record(table: Table, kind: str, **fields: Any) -> dict[str, Any]:
    """kind: 'post' (with scheduledPostId, socialAccountId) or 'sms' (with
    containerId, phoneNumber)."""
    now = clock.now()
    ident = str(uuid.uuid4())
    at = clock.to_storage(now)
    entry = {"kind": kind, "at": clock.to_wire(now), **{k: v for k, v in fields.items() if v is not None}}
    table.put({**keys.key("SBX", ident), "type": "SBX", "GSI1PK": INDEX_KEY, "GSI1SK": f"{at}#{ident}",
               "expiresAt": clock.epoch_seconds(now) + TTL_SECONDS, "entry": entry})
    return entry


def list_all(table: Table) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    start = None
    while True:
        page, start = table.query("GSI1", "GSI1PK", INDEX_KEY, start=start)
        found += [item["entry"] for item in page]
        if not start:
            return found
