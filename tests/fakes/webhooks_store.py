"""In-memory implementations of the webhook ports (layers_shared/webhooks/ports.py).

The use cases' unit tests run on these; tests/unit/store/test_webhook_*_contract.py
runs the same tests on them and on the DynamoDB adapters, so what they accept,
refuse and return is what DynamoDB does. Records are copied in and out, as a
round trip through the table would: a caller that changes what it read does
not change what is stored.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any

from layers_shared.domain.errors import IdempotencyInProgress
from layers_shared.domain.ports import ChangeEvents, Remember, StaleWrite
from layers_shared.webhooks import rules
from layers_shared.webhooks.ports import (
    EDITABLE, AttemptOutcome, Delivery, DeliveryListQuery, DeliveryPage, Endpoint, EndpointLimit, position,
)


def _held(remember: Remember | None) -> None:
    """Checked after the write's own conditions, as the DynamoDB side's transaction
    reports a failed condition of the change before a lost reservation."""
    if remember is not None and not remember.reservation.held():
        raise IdempotencyInProgress()  # the key was taken over: its new holder answers


def _kept(remember: Remember | None, answers: list[Any]) -> None:
    if remember is not None:
        answers.append(remember.answer)
        remember.reservation.complete(remember.answer)


class InMemoryWebhookEndpoints:
    def __init__(self) -> None:
        self.stored: dict[str, Endpoint] = {}
        self.counts: dict[str, int] = {}  # per organization: what holds the limit
        self.answers: list[Any] = []  # what completed Idempotency-Keys remember

    def get(self, endpoint_id: str, *, consistent: bool = True) -> Endpoint | None:
        return copy.deepcopy(self.stored.get(endpoint_id))

    def of_organization(self, organization_id: str) -> list[Endpoint]:
        found = [e for e in self.stored.values() if e.organizationId == organization_id]
        return copy.deepcopy(sorted(found, key=position, reverse=True))

    def create(self, endpoint: Endpoint, remember: Remember | None = None) -> None:
        if self.counts.get(endpoint.organizationId, 0) >= rules.MAX_ENDPOINTS:
            raise EndpointLimit()
        if endpoint.id in self.stored:
            raise StaleWrite()
        _held(remember)
        self.stored[endpoint.id] = copy.deepcopy(dataclasses.replace(endpoint, events=tuple(endpoint.events)))
        self.counts[endpoint.organizationId] = self.counts.get(endpoint.organizationId, 0) + 1
        _kept(remember, self.answers)

    def update(self, endpoint: Endpoint, changes: dict[str, Any], remember: Remember | None = None) -> None:
        unknown = set(changes) - set(EDITABLE) - {"updatedAt"}
        assert not unknown, f"not editable: {sorted(unknown)}"
        found = self.stored.get(endpoint.id)
        if found is None or found.updatedAt != endpoint.updatedAt:
            raise StaleWrite()
        _held(remember)
        changed = {k: tuple(v) if k == "events" else v for k, v in copy.deepcopy(changes).items()}
        self.stored[endpoint.id] = dataclasses.replace(found, **changed)
        _kept(remember, self.answers)

    def rotate(self, endpoint: Endpoint, ciphertext: str, previous_until: str, stamp: str,
               remember: Remember | None = None) -> None:
        found = self.stored.get(endpoint.id)
        if found is None or found.secretCiphertext != endpoint.secretCiphertext:
            raise StaleWrite()
        _held(remember)
        self.stored[endpoint.id] = dataclasses.replace(
            found, secretCiphertext=ciphertext, previousSecretCiphertext=endpoint.secretCiphertext,
            previousSecretUntil=previous_until, updatedAt=stamp)
        _kept(remember, self.answers)

    def delete(self, endpoint: Endpoint, remember: Remember | None = None) -> None:
        if endpoint.id not in self.stored or self.counts.get(endpoint.organizationId, 0) <= 0:
            raise StaleWrite()
        _held(remember)
        del self.stored[endpoint.id]
        self.counts[endpoint.organizationId] -= 1
        _kept(remember, self.answers)

    def count_failure(self, endpoint_id: str) -> int | None:
        found = self.stored.get(endpoint_id)
        if found is None:
            return None
        self.stored[endpoint_id] = found = dataclasses.replace(
            found, consecutiveFailureCount=found.consecutiveFailureCount + 1)
        return found.consecutiveFailureCount

    def reset_failures(self, endpoint_id: str) -> None:
        found = self.stored.get(endpoint_id)
        if found is not None and found.consecutiveFailureCount > 0:
            self.stored[endpoint_id] = dataclasses.replace(found, consecutiveFailureCount=0)

    def auto_pause(self, endpoint_id: str, stamp: str) -> bool:
        found = self.stored.get(endpoint_id)
        if found is None or found.status != "active":
            return False
        self.stored[endpoint_id] = dataclasses.replace(found, status="auto_paused", updatedAt=stamp)
        return True


class InMemoryWebhookDeliveries:
    """`read_size` and `reads` are the DynamoDB side's read budget of a page
    (store/webhook_deliveries.py): the same budget cuts a sparse page short."""

    def __init__(self, read_size: int = 100, reads: int = 5) -> None:
        self.stored: dict[str, Delivery] = {}
        self.read_size, self.reads = read_size, reads

    def add(self, delivery: Delivery) -> bool:
        if delivery.id in self.stored:
            return False
        self.stored[delivery.id] = copy.deepcopy(delivery)
        return True

    def get(self, delivery_id: str, *, consistent: bool = True) -> Delivery | None:
        return copy.deepcopy(self.stored.get(delivery_id))

    def claim(self, delivery_id: str, attempt: int, now: str, lease_until: str) -> bool:
        found = self.stored.get(delivery_id)
        if found is None or found.attempts != attempt - 1:
            return False
        lapsed = found.status == "delivering" and found.leaseUntil is not None and found.leaseUntil < now
        if found.status != "pending" and not lapsed:
            return False
        self.stored[delivery_id] = dataclasses.replace(found, status="delivering", leaseUntil=lease_until)
        return True

    def record_attempt(self, delivery_id: str, attempt: int, outcome: AttemptOutcome) -> bool:
        found = self.stored.get(delivery_id)
        if found is None or found.attempts != attempt - 1 or found.status != "delivering":
            return False
        self.stored[delivery_id] = dataclasses.replace(
            found, attempts=attempt, status=outcome.status, lastResponseAt=outcome.at,
            lastResponseStatus=outcome.response_status, lastErrorMessage=outcome.error_message, leaseUntil=None,
            nextRetryAt=outcome.next_retry_at if outcome.status == "pending" else None,
            deliveredAt=outcome.at if outcome.status == "delivered" else found.deliveredAt)
        return True

    def abandon(self, delivery_id: str, stamp: str) -> bool:
        found = self.stored.get(delivery_id)
        if found is None or found.status not in ("pending", "delivering"):
            return False
        self.stored[delivery_id] = dataclasses.replace(found, status="abandoned", abandonedAt=stamp,
                                                       nextRetryAt=None, leaseUntil=None)
        return True

    def unfinished(self, endpoint_id: str) -> list[Delivery]:
        return copy.deepcopy(sorted((d for d in self.stored.values()
                                     if d.endpointId == endpoint_id and d.status in ("pending", "delivering")),
                                    key=position))

    def page(self, query: DeliveryListQuery) -> DeliveryPage:
        # Reads as the Queries do: newest first after the position, `read_size` items a read
        # (filters drop items after they are read), at most `reads` reads, until the page is full.
        ordered = sorted((d for d in self.stored.values() if d.endpointId == query.endpoint_id), key=position,
                         reverse=True)
        ordered = [d for d in ordered if query.after is None or position(d) < query.after]
        found: list[Delivery] = []
        read = 0
        more = False
        for _ in range(self.reads):
            batch = ordered[read:read + self.read_size]
            read += len(batch)
            more = read < len(ordered)  # what a Query's LastEvaluatedKey says (moto: only when items follow)
            found += [d for d in batch if (query.event_type is None or d.eventType == query.event_type)
                      and (query.status is None or d.status == query.status)]
            if len(found) >= query.limit or not more:
                break
        page = copy.deepcopy(found[:query.limit])
        if len(found) > query.limit:
            resume = position(page[-1])
        elif more:
            resume = position(ordered[read - 1])
        else:
            resume = None
        return DeliveryPage(page, resume)


class InMemoryWebhookOutbox:
    def __init__(self) -> None:
        self.raised: dict[str, ChangeEvents] = {}
        self.answers: list[Any] = []

    def add(self, events: ChangeEvents, remember: Remember | None = None) -> None:
        if events.change in self.raised:
            raise StaleWrite()
        _held(remember)
        self.raised[events.change] = copy.deepcopy(events)
        _kept(remember, self.answers)


class InMemoryDeliveryQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], float]] = []

    def send(self, messages: list[tuple[dict[str, Any], float]]) -> None:
        self.sent += copy.deepcopy(messages)


class InMemorySecretBox:
    """Reversible and bound to the endpoint, like KMS with its encryption context:
    a ciphertext copied onto another endpoint does not decrypt."""

    def encrypt(self, endpoint_id: str, secret: str) -> str:
        return f"sealed:{endpoint_id}:{secret}"

    def decrypt(self, endpoint_id: str, ciphertext: str) -> str:
        prefix = f"sealed:{endpoint_id}:"
        if not ciphertext.startswith(prefix):
            raise ValueError("not sealed for this endpoint")
        return ciphertext[len(prefix):]
