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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from layers_shared import clock
from layers_shared.webhooks import queue, rules, signing, ssrf, transport
from layers_shared.webhooks.ports import AttemptOutcome, Delivery, Endpoint

if TYPE_CHECKING:
    from layers_shared.webhooks.ports import (
        DeliveryQueue, SecretBox, Transport, WebhookDeliveries, WebhookEndpoints,
    )

log = logging.getLogger(__name__)
LEASE_SECONDS = 30  # longer than an attempt (10 s) plus its bookkeeping


@dataclass(frozen=True)
class Ports:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    queue: DeliveryQueue
    secrets: SecretBox
    transport: Transport


def handle(ports: Ports, body: dict[str, Any]) -> str:
    delivery_id, attempt = body.get("deliveryId"), body.get("attempt")
    if not isinstance(delivery_id, str) or not isinstance(attempt, int):
        return "ignored"
    due = float(body.get("due") or 0)
    wait = due - time.time()
    if wait > 1:  # a wait longer than SQS allows: one more hop
        ports.queue.send([(queue.message(delivery_id, attempt, due), wait)])
        return "hop"
    return attempt_once(ports, delivery_id, attempt, clock.now())


def attempt_once(ports: Ports, delivery_id: str, attempt: int, now: datetime) -> str:
    delivery = ports.deliveries.get(delivery_id)
    if delivery is None or delivery.status in rules.FINISHED:
        return "done"
    if delivery.attempts != attempt - 1:
        return "stale"
    endpoint = ports.endpoints.get(delivery.endpointId)
    if endpoint is None or endpoint.status != "active":
        ports.deliveries.abandon(delivery_id, clock.to_storage(now))
        return "abandoned"
    lease = clock.to_storage(now + timedelta(seconds=LEASE_SECONDS))
    if not ports.deliveries.claim(delivery_id, attempt, clock.to_storage(now), lease):
        return "stale"
    event = _event(delivery)
    raw = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        target = ssrf.check(endpoint.url, endpoint.env)
    except ssrf.Refused as refused:
        answer = transport.Answer(None, f"refused: {refused}", 0.0)
    else:
        stamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": transport.USER_AGENT,
                   "X-Layers-Event-Id": event["id"], "X-Layers-Delivery-Id": delivery_id,
                   "X-Layers-Signature": signing.header(_secrets(ports, endpoint, now), stamp, raw)}
        answer = ports.transport.post(endpoint.url, target, raw, headers, rules.TIMEOUT_SECONDS)
    done = clock.now()
    if answer.status is not None and 200 <= answer.status < 300:
        ports.deliveries.record_attempt(delivery_id, attempt, _outcome("delivered", answer, done))
        ports.endpoints.reset_failures(endpoint.id)
        return "delivered"
    result = _record_failure(ports, delivery, attempt, answer, done)
    _count_failure(ports, endpoint, done)
    return result


def _event(delivery: Delivery) -> dict[str, Any]:
    event = {"id": delivery.eventId, "type": delivery.eventType, "createdAt": delivery.eventCreatedAt,
             "data": delivery.data}
    if delivery.replayOfEvent:
        event["replayOf"] = delivery.replayOfEvent
    return event


def _secrets(ports: Ports, endpoint: Endpoint, now: datetime) -> list[str]:
    """The current secret, then the previous one during the rotation overlap."""
    found = [ports.secrets.decrypt(endpoint.id, endpoint.secretCiphertext)]
    until = endpoint.previousSecretUntil
    if endpoint.previousSecretCiphertext and until and until > clock.to_storage(now):
        found.append(ports.secrets.decrypt(endpoint.id, endpoint.previousSecretCiphertext))
    return found


def _outcome(status: str, answer: transport.Answer, now: datetime, next_retry_at: str | None = None) -> AttemptOutcome:
    delivered = answer.status is not None and 200 <= answer.status < 300
    message = rules.clip_error(answer.error) if answer.error else (None if delivered else f"HTTP {answer.status}")
    return AttemptOutcome(status, clock.to_storage(now), answer.status, message, next_retry_at)


def _record_failure(ports: Ports, delivery: Delivery, attempt: int, answer: transport.Answer,
                    now: datetime) -> str:
    wait = rules.next_wait(attempt)
    if wait is None:
        ports.deliveries.record_attempt(delivery.id, attempt, _outcome("failed", answer, now))
        return "failed"
    due = now + timedelta(seconds=wait)
    ports.queue.send([(queue.message(delivery.id, attempt + 1, due.timestamp()), min(wait, queue.MAX_DELAY))])
    ports.deliveries.record_attempt(delivery.id, attempt, _outcome("pending", answer, now, clock.to_storage(due)))
    return "retry"


def _count_failure(ports: Ports, endpoint: Endpoint, now: datetime) -> None:
    count = ports.endpoints.count_failure(endpoint.id)
    if count is None or count < rules.AUTO_PAUSE_AFTER:
        return  # deleted meanwhile, or not yet
    stamp = clock.to_storage(now)
    if not ports.endpoints.auto_pause(endpoint.id, stamp):
        return  # paused already (by the partner, or by a concurrent attempt)
    log.warning("webhook endpoint auto-paused", extra={"endpointId": endpoint.id})
    for unfinished in ports.deliveries.unfinished(endpoint.id):
        ports.deliveries.abandon(unfinished.id, stamp)
