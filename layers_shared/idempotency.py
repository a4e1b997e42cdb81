"""Idempotency-Key handling (decisions.md, "Idempotency").

A record per (API key id, method + route template, key): reserved atomically as
`in_progress`, completed with the stored response (for schedule/publish inside
the same transaction as the rows), replayed for 24 h.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from layers_shared import clock, errors
from layers_shared.store import keys
from layers_shared.store.table import ConditionFailed, Table, TransactionCanceled

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


@dataclass
class Reservation:
    table: Table
    scope: str
    token: str
    completed: bool = False

    @property
    def key(self) -> dict[str, str]:
        return keys.idempotency(self.scope)

    def completion_item(self, response: StoredResponse) -> dict[str, Any]:
        """The write that completes this reservation, for a caller's TransactWriteItems;
        call `mark_completed` once that transaction has succeeded."""
        return self.table.tx_update(self.key, *_completion(self.token, response))

    def mark_completed(self) -> None:
        self.completed = True

    def complete(self, response: StoredResponse) -> None:
        if self.completed:
            return
        try:
            self.table.update(self.key, *_completion(self.token, response))
        except ConditionFailed:
            pass  # our lease ran out and another request took over; it will answer
        self.completed = True

    def abandon(self) -> None:
        """Forget the reservation so that a retry runs (401/403/429/5xx are not stored).

        Only while it is still in progress: a transaction may have completed
        it although its answer never reached us, and deleting that record
        would let the retry write a second set of rows."""
        if self.completed:
            return
        try:
            self.table.delete(self.key, condition="#tok = :tok AND #st = :prog",
                              names={"#tok": "token", "#st": "status"},
                              values={":tok": self.token, ":prog": "in_progress"})
        except ConditionFailed:
            pass


def _completion(token: str, response: StoredResponse) -> tuple[str, dict[str, str], dict[str, Any], str]:
    return (
        "SET #st = :done, #resp = :resp REMOVE leaseUntil",
        {"#st": "status", "#resp": "response", "#tok": "token"},
        {":done": "completed", ":tok": token,
         ":resp": {"status": response.status, "body": canonical_json(response.body), "headers": response.headers}},
        "#tok = :tok",
    )


def begin(table: Table, scope: str, fp: str) -> Reservation | StoredResponse:
    """Reserve the key, or return the stored response to replay.

    Raises 409 IDEMPOTENCY_CONFLICT for another fingerprint and 409 CONFLICT
    (IDEMPOTENCY_IN_PROGRESS) while the first request still runs.
    """
    for _ in range(3):
        now = clock.now()
        token = secrets.token_hex(16)
        record = {
            **keys.idempotency(scope), "type": "IDEM", "status": "in_progress", "fingerprint": fp,
            "token": token, "leaseUntil": clock.epoch_seconds(now) + LEASE_SECONDS,
            "expiresAt": clock.epoch_seconds(now) + TTL_SECONDS,
        }
        try:
            table.put(
                record,
                condition="attribute_not_exists(PK) OR expiresAt < :now OR (#st = :prog AND leaseUntil < :now)",
                names={"#st": "status"},
                values={":now": clock.epoch_seconds(now), ":prog": "in_progress"},
            )
            return Reservation(table, scope, token)
        except ConditionFailed:
            existing = table.get(keys.idempotency(scope), consistent=True)
        if existing is None:
            continue  # abandoned between our two calls: try to reserve it again
        if existing.get("fingerprint") != fp:
            raise errors.idempotency_conflict()
        if existing.get("status") == "completed":
            stored = existing["response"]
            return StoredResponse(int(stored["status"]), json.loads(stored["body"]), dict(stored.get("headers") or {}))
        raise errors.idempotency_in_progress()
    raise errors.idempotency_in_progress()


class CommitFailed(Exception):
    """A condition of the caller's items failed; `failed` holds their indexes."""

    def __init__(self, failed: set[int]):
        super().__init__(f"conditions failed at {sorted(failed)}")
        self.failed = failed


def commit(table: Table, tx: list[dict[str, Any]], reservation: Reservation | None, response: StoredResponse) -> None:
    """Write `tx` and the reservation's completion in one TransactWriteItems.

    Raises `CommitFailed` when one of the caller's conditions failed (nothing
    was written), 409 IDEMPOTENCY_IN_PROGRESS when only the reservation was lost to
    a request that took over its lease. Any other cancellation (throttling, a
    conflicting transaction, an invalid request) propagates as it is: it says
    nothing about the Idempotency-Key.
    """
    items = list(tx)
    if reservation is not None:
        items.append(reservation.completion_item(response))
    try:
        table.transact(items)
    except TransactionCanceled as exc:
        failed = {i for i, reason in enumerate(exc.reasons) if reason == "ConditionalCheckFailed" and i < len(tx)}
        if failed:
            raise CommitFailed(failed) from None
        reservation_lost = reservation is not None and len(exc.reasons) > len(tx) \
            and exc.reasons[len(tx)] == "ConditionalCheckFailed"
        if reservation_lost:
            raise errors.idempotency_in_progress() from None
        raise
    if reservation is not None:
        reservation.mark_completed()
