"""What the webhook use cases, the fan-out and the delivery attempts need from
storage, the queue, KMS and the network, in webhook terms (docs/adr/0081).

The DynamoDB sides are `store/webhook_endpoints.py`, `store/webhook_deliveries.py`
and `store/outbox.py`, the only code that knows their keys, indexes and
expressions; `tests/fakes/webhooks_store.py` holds the in-memory ones. The
contract suites `tests/unit/store/test_webhook_*_contract.py` run against both.

Records are plain dataclasses whose field names are the stored attribute names
(and, where a view shows them, the wire names), so decoding builds nothing
heavy. As in `domain/ports.py`, reads return None for what does not exist and
tenancy is the use case's rule; a conditional write that does not hold raises
`StaleWrite`, and with a `Remember` a lost Idempotency-Key raises
IdempotencyInProgress, nothing written either way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from layers_shared.domain.ports import ChangeEvents, Remember
    from layers_shared.webhooks.ssrf import Target
    from layers_shared.webhooks.transport import Answer


class EndpointLimit(Exception):
    """The organization already has as many endpoints as it may (rules.MAX_ENDPOINTS)."""


@dataclass(frozen=True)
class Endpoint:
    id: str
    organizationId: str
    env: str
    url: str
    events: tuple[str, ...]
    description: str | None
    projectId: str | None
    metadata: dict[str, str] = field(hash=False)
    status: str
    consecutiveFailureCount: int
    secretCiphertext: str
    createdAt: str  # storage instants, as every stamp below
    updatedAt: str
    # During a rotation's overlap the old secret signs too, until `previousSecretUntil`.
    previousSecretCiphertext: str | None = None
    previousSecretUntil: str | None = None


# What a PATCH may change on an endpoint (with `updatedAt`).
EDITABLE = ("url", "events", "description", "status", "metadata", "consecutiveFailureCount")


@dataclass(frozen=True)
class Delivery:
    id: str
    endpointId: str
    organizationId: str
    eventId: str
    eventType: str
    eventCreatedAt: str  # wire instant: it goes into the body as it was raised
    data: dict[str, Any] = field(hash=False)
    status: str
    attempts: int
    createdAt: str
    nextRetryAt: str | None = None  # only while pending
    leaseUntil: str | None = None  # only while delivering
    deliveredAt: str | None = None
    abandonedAt: str | None = None
    lastResponseStatus: int | None = None
    lastResponseAt: str | None = None
    lastErrorMessage: str | None = None
    replayOf: str | None = None  # the original delivery's id, on a replay
    replayOfEvent: str | None = None  # the original event's id, the body's `replayOf`


@dataclass(frozen=True)
class AttemptOutcome:
    """How attempt n ended: `delivered`, `pending` (another attempt at
    `next_retry_at`) or `failed` (attempts spent)."""

    status: str
    at: str
    response_status: int | None
    error_message: str | None
    next_retry_at: str | None = None


def position(record: Endpoint | Delivery) -> str:
    """Where an endpoint sorts among its organization's, or a delivery among its
    endpoint's (both newest first): a list cursor's position."""
    return f"{record.createdAt}#{record.id}"


@dataclass(frozen=True)
class DeliveryListQuery:
    """A page of an endpoint's deliveries, newest first, after the position
    `after` (None: from the newest); empty filters mean any."""

    endpoint_id: str
    event_type: str | None
    status: str | None
    limit: int
    after: str | None = None


@dataclass(frozen=True)
class DeliveryPage:
    """Up to `limit` deliveries and the position to resume after (None: nothing
    more). A sparse filter may make a page short, even empty, with a position:
    the store stopped at its read budget (as posts do, ADR 0042)."""

    deliveries: list[Delivery]
    resume_after: str | None


class WebhookEndpoints(Protocol):
    def get(self, endpoint_id: str, *, consistent: bool = True) -> Endpoint | None: ...

    def of_organization(self, organization_id: str) -> list[Endpoint]:
        """Every endpoint of the organization (at most rules.MAX_ENDPOINTS), newest first."""
        ...

    def create(self, endpoint: Endpoint, remember: Remember | None = None) -> None:
        """Store a new endpoint and count it; EndpointLimit when the organization is full."""
        ...

    def update(self, endpoint: Endpoint, changes: dict[str, Any], remember: Remember | None = None) -> None:
        """Set `changes` (names from EDITABLE, and `updatedAt`) on the endpoint as read;
        StaleWrite when it was changed (its `updatedAt` moved) or deleted meanwhile."""
        ...

    def rotate(self, endpoint: Endpoint, ciphertext: str, previous_until: str, stamp: str,
               remember: Remember | None = None) -> None:
        """The new secret signs from now on, the one read also until `previous_until`;
        StaleWrite when the secret was rotated (or the endpoint deleted) meanwhile."""
        ...

    def delete(self, endpoint: Endpoint, remember: Remember | None = None) -> None:
        """Delete it and uncount it; StaleWrite when it is already gone."""
        ...

    def count_failure(self, endpoint_id: str) -> int | None:
        """One more failed attempt in a row (atomically); the count so far, None when deleted."""
        ...

    def reset_failures(self, endpoint_id: str) -> None:
        """No failed attempt in a row any more (nothing if deleted)."""
        ...

    def auto_pause(self, endpoint_id: str, stamp: str) -> bool:
        """active -> auto_paused; False when it was not active (or is gone)."""
        ...


class WebhookDeliveries(Protocol):
    def add(self, delivery: Delivery) -> bool:
        """Store a new delivery; False when one with its id exists (a stream retry)."""
        ...

    def get(self, delivery_id: str, *, consistent: bool = True) -> Delivery | None: ...

    def claim(self, delivery_id: str, attempt: int, now: str, lease_until: str) -> bool:
        """pending -> delivering for attempt `attempt` (so `attempt - 1` made), or take over a
        delivering one whose lease ran out before `now`; False otherwise."""
        ...

    def record_attempt(self, delivery_id: str, attempt: int, outcome: AttemptOutcome) -> bool:
        """Record claimed attempt `attempt`; False when the delivery is no longer ours
        (abandoned while we were sending, or another holder recorded it)."""
        ...

    def abandon(self, delivery_id: str, stamp: str) -> bool:
        """pending/delivering -> abandoned; False when it had finished (or does not exist)."""
        ...

    def unfinished(self, endpoint_id: str) -> list[Delivery]:
        """Every delivery of the endpoint still pending or delivering."""
        ...

    def page(self, query: DeliveryListQuery) -> DeliveryPage: ...


class WebhookOutbox(Protocol):
    def add(self, events: ChangeEvents, remember: Remember | None = None) -> None:
        """Raise the events of a change of their own (a test ping, a replay); StaleWrite
        when that change was raised already."""
        ...


class DeliveryQueue(Protocol):
    def send(self, messages: list[tuple[dict[str, Any], float]]) -> None:
        """(message, delay in seconds) pairs; every one queued or an exception."""
        ...


class SecretBox(Protocol):
    """Signing secrets encrypted at rest, each bound to its endpoint (webhooks/crypto.py)."""

    def encrypt(self, endpoint_id: str, secret: str) -> str: ...

    def decrypt(self, endpoint_id: str, ciphertext: str) -> str: ...


class Transport(Protocol):
    def post(self, url: str, target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
        """One POST to the checked address; every failure is an Answer, never an exception."""
        ...
