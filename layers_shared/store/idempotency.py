"""Idempotency-Key records in the single table (`IDEM#<scope>`): the DynamoDB
side of the `IdempotencyRecords` port, and the commit that completes a key in
the same TransactWriteItems as the change it answers for.

A record is put `in_progress` under a lease; it can be taken over when it does
not exist, has expired (TTL deletes lazily) or its holder's lease ran out.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from layers_shared import clock
from layers_shared.domain.errors import IdempotencyConflict, IdempotencyInProgress
from layers_shared.idempotency import LEASE_SECONDS, TTL_SECONDS, StoredResponse, canonical_json
from layers_shared.store import keys
from layers_shared.store.table import ConditionFailed, Table, TransactionCanceled


class DynamoIdempotencyRecords:
    def __init__(self, table: Table):
        self.table = table

    def reserve(self, scope: str, fingerprint: str) -> DynamoReservation | StoredResponse:
        return begin(self.table, scope, fingerprint)


@dataclass
class DynamoReservation:
    """An `IDEM#<scope>` record this request holds (`token`) while it runs."""

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


class CommitFailed(Exception):
    """A condition of the caller's items failed; `failed` holds their indexes."""

    def __init__(self, failed: set[int]):
        super().__init__(f"conditions failed at {sorted(failed)}")
        self.failed = failed


def commit(table: Table, tx: list[dict[str, Any]], reservation: DynamoReservation | None,
           response: StoredResponse) -> None:
    """Write `tx` and the reservation's completion in one TransactWriteItems.

    Raises `CommitFailed` when one of the caller's conditions failed (nothing
    was written), IdempotencyInProgress when only the reservation was lost to
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
            raise IdempotencyInProgress() from None
        raise
    if reservation is not None:
        reservation.mark_completed()


def begin(table: Table, scope: str, fp: str) -> DynamoReservation | StoredResponse:
    """Reserve the key, or return the stored response to replay.

    Raises IdempotencyConflict for another fingerprint and IdempotencyInProgress
    while the first request still runs.
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
            return DynamoReservation(table, scope, token)
        except ConditionFailed:
            existing = table.get(keys.idempotency(scope), consistent=True)
        if existing is None:
            continue  # abandoned between our two calls: try to reserve it again
        if existing.get("fingerprint") != fp:
            raise IdempotencyConflict()
        if existing.get("status") == "completed":
            stored = existing["response"]
            return StoredResponse(int(stored["status"]), json.loads(stored["body"]), dict(stored.get("headers") or {}))
        raise IdempotencyInProgress()
    raise IdempotencyInProgress()
