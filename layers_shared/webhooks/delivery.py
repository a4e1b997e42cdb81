"""One attempt of one delivery: the work behind each delivery-queue message.

1. A message names the delivery and the attempt it is for; a message for an
   attempt already made (SQS at least once, a stream retry) does nothing.
2. The endpoint must still exist and be active, else the delivery is abandoned.
3. Claim the attempt (`pending -> delivering`, conditional on the attempt
   count), check the URL's addresses again (DNS rebinding), POST the signed
   body, then record the attempt on the delivery: delivered, pending with
   `nextRetryAt`, or failed after the eighth.
4. The next attempt's message is queued before the failure is recorded, so a
   crash in between can only cause one more attempt, never none.
5. Every failed attempt counts on the endpoint; the 20th in a row pauses it
   (`auto_paused`) and abandons its unfinished deliveries. A success resets it.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from layers_shared import clock
from layers_shared.store.table import ConditionFailed, Table
from layers_shared.webhooks import crypto, queue, rules, signing, ssrf, store, transport

log = logging.getLogger(__name__)
LEASE_SECONDS = 30  # longer than an attempt (10 s) plus its bookkeeping


def handle(table: Table, body: dict[str, Any]) -> str:
    delivery_id, attempt = body.get("deliveryId"), body.get("attempt")
    if not isinstance(delivery_id, str) or not isinstance(attempt, int):
        return "ignored"
    due = float(body.get("due") or 0)
    wait = due - time.time()
    if wait > 1:  # a wait longer than SQS allows: one more hop
        queue.send([(queue.message(delivery_id, attempt, due), wait)])
        return "hop"
    return attempt_once(table, delivery_id, attempt, clock.now())


def attempt_once(table: Table, delivery_id: str, attempt: int, now: datetime) -> str:
    delivery = store.get_delivery(table, delivery_id)
    if delivery is None or delivery["status"] in rules.FINISHED:
        return "done"
    if int(delivery.get("attempts") or 0) != attempt - 1:
        return "stale"
    endpoint = table.get(store.endpoint_key(delivery["endpointId"]), consistent=True)
    if endpoint is None or endpoint.get("status") != "active":
        store.abandon(table, delivery_id, now)
        return "abandoned"
    if not _claim(table, delivery_id, attempt, now):
        return "stale"
    event = _event(delivery)
    raw = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        target = ssrf.check(endpoint["url"], endpoint.get("env", "live"))
    except ssrf.Refused as refused:
        answer = transport.Answer(None, f"refused: {refused}", 0.0)
    else:
        stamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": transport.USER_AGENT,
                   "X-Layers-Event-Id": event["id"], "X-Layers-Delivery-Id": delivery_id,
                   "X-Layers-Signature": signing.header(_secrets(endpoint, now), stamp, raw)}
        answer = transport.post(endpoint["url"], target, raw, headers, rules.TIMEOUT_SECONDS)
    done = clock.now()
    if answer.status is not None and 200 <= answer.status < 300:
        _record_success(table, delivery, attempt, answer, done)
        _reset_failures(table, endpoint)
        return "delivered"
    result = _record_failure(table, delivery, attempt, answer, done)
    _count_failure(table, endpoint, done)
    return result


def _event(delivery: dict[str, Any]) -> dict[str, Any]:
    event = {"id": delivery["eventId"], "type": delivery["eventType"], "createdAt": delivery["eventCreatedAt"],
             "data": delivery.get("data") or {}}
    if delivery.get("replayOfEvent"):
        event["replayOf"] = delivery["replayOfEvent"]
    return event


def _secrets(endpoint: dict[str, Any], now: datetime) -> list[str]:
    """The current secret, then the previous one during the rotation overlap."""
    found = [crypto.decrypt(endpoint["id"], endpoint["secretCiphertext"])]
    until = endpoint.get("previousSecretUntil")
    if endpoint.get("previousSecretCiphertext") and until and until > clock.to_storage(now):
        found.append(crypto.decrypt(endpoint["id"], endpoint["previousSecretCiphertext"]))
    return found


def _claim(table: Table, delivery_id: str, attempt: int, now: datetime) -> bool:
    stamp = clock.to_storage(now)
    try:
        table.update(store.delivery_key(delivery_id), "SET #s = :delivering, leaseUntil = :lease",
                     names={"#s": "status", "#n": "attempts"},
                     values={":delivering": "delivering", ":pending": "pending", ":made": attempt - 1,
                             ":now": stamp,
                             ":lease": clock.to_storage(now + timedelta(seconds=LEASE_SECONDS))},
                     condition="#n = :made AND (#s = :pending OR (#s = :delivering AND leaseUntil < :now))")
        return True
    except ConditionFailed:
        return False


def _record(table: Table, delivery_id: str, attempt: int, sets: dict[str, Any], remove: list[str]) -> bool:
    names = {f"#f{i}": k for i, k in enumerate(sets)} | {"#n": "attempts", "#s": "status"}
    values = {f":v{i}": v for i, v in enumerate(sets.values())} | {":made": attempt - 1,
                                                                   ":delivering": "delivering"}
    expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
    if remove:
        expression += " REMOVE " + ", ".join(remove)
    try:
        table.update(store.delivery_key(delivery_id), expression, names=names, values=values,
                     condition="#n = :made AND #s = :delivering")
        return True
    except ConditionFailed:
        return False  # abandoned (paused or deleted endpoint) while we were sending


def _outcome_fields(attempt: int, answer: transport.Answer, now: datetime) -> dict[str, Any]:
    stamp = clock.to_storage(now)
    fields: dict[str, Any] = {"attempts": attempt, "lastResponseAt": stamp,
                              "lastResponseStatus": answer.status}
    fields["lastErrorMessage"] = rules.clip_error(answer.error) if answer.error else (
        None if answer.status is not None and 200 <= answer.status < 300 else f"HTTP {answer.status}")
    return fields


def _record_success(table: Table, delivery: dict[str, Any], attempt: int, answer: transport.Answer,
                    now: datetime) -> None:
    fields = _outcome_fields(attempt, answer, now) | {"status": "delivered", "deliveredAt": clock.to_storage(now)}
    _record(table, delivery["id"], attempt, fields, ["nextRetryAt", "leaseUntil"])


def _record_failure(table: Table, delivery: dict[str, Any], attempt: int, answer: transport.Answer,
                    now: datetime) -> str:
    fields = _outcome_fields(attempt, answer, now)
    wait = rules.next_wait(attempt)
    if wait is None:
        _record(table, delivery["id"], attempt, fields | {"status": "failed"}, ["nextRetryAt", "leaseUntil"])
        return "failed"
    due = now + timedelta(seconds=wait)
    queue.send([(queue.message(delivery["id"], attempt + 1, due.timestamp()), min(wait, queue.MAX_DELAY))])
    _record(table, delivery["id"], attempt, fields | {"status": "pending", "nextRetryAt": clock.to_storage(due)},
            ["leaseUntil"])
    return "retry"


def _reset_failures(table: Table, endpoint: dict[str, Any]) -> None:
    try:
        table.update(store.endpoint_key(endpoint["id"]), "SET consecutiveFailureCount = :zero",
                     values={":zero": 0}, condition="attribute_exists(PK) AND consecutiveFailureCount > :zero")
    except ConditionFailed:
        pass  # already 0 (the usual case) or deleted


def _count_failure(table: Table, endpoint: dict[str, Any], now: datetime) -> None:
    try:
        updated = table.update(store.endpoint_key(endpoint["id"]), "ADD consecutiveFailureCount :one",
                               values={":one": 1}, condition="attribute_exists(PK)", return_new=True)
    except ConditionFailed:
        return  # deleted meanwhile
    assert updated is not None
    if int(updated.get("consecutiveFailureCount") or 0) < rules.AUTO_PAUSE_AFTER:
        return
    try:
        table.update(store.endpoint_key(endpoint["id"]), "SET #s = :paused, updatedAt = :now",
                     names={"#s": "status"}, values={":paused": "auto_paused", ":active": "active",
                                                     ":now": clock.to_storage(now)},
                     condition="#s = :active")
    except ConditionFailed:
        return  # paused already (by the partner, or by a concurrent attempt)
    log.warning("webhook endpoint auto-paused", extra={"endpointId": endpoint["id"]})
    store.abandon_unfinished(table, endpoint["id"], now)
