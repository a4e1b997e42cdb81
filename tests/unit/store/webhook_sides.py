"""The two sides of the webhook ports for their contract suites: the DynamoDB
adapters on the package's moto table (conftest.py `moto_table`) and the
in-memory fakes. A suite imports `webhooks` (a fixture) and runs once per side.

The page read budget is small on both sides (3 items a read, 2 reads) so that
a sparse filter runs out of it with a handful of deliveries."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from layers_shared import clock
from layers_shared.webhooks.ports import Delivery, Endpoint

READ_SIZE, READS = 3, 2
T0 = datetime(2026, 5, 20, 9, 0, tzinfo=timezone.utc)


@dataclass
class Sides:
    side: str
    endpoints: Any
    deliveries: Any
    outbox: Any
    reservation: Callable[[], Any]  # a fresh Idempotency-Key reservation
    raised: Callable[[str], Any]  # the ChangeEvents a change raised, as the fan-out reads them, or None


def _dynamo(table: Any) -> Sides:
    from layers_shared.store import codec
    from layers_shared.store.idempotency import DynamoIdempotencyRecords
    from layers_shared.store.outbox import DynamoWebhookOutbox, outbox_key, stream_changes
    from layers_shared.store.webhook_deliveries import DynamoWebhookDeliveries
    from layers_shared.store.webhook_endpoints import DynamoWebhookEndpoints

    def raised(change: str) -> Any:
        # What the table's stream hands the fan-out: the stored item as a NEW_IMAGE insert.
        stored = table.get(outbox_key(change), consistent=True)
        if stored is None:
            return None
        [(_, found)] = stream_changes([{"eventName": "INSERT",
                                        "dynamodb": {"NewImage": codec.serialize(stored), "SequenceNumber": "1"}}])
        return found

    return Sides("dynamodb", DynamoWebhookEndpoints(table), DynamoWebhookDeliveries(table, READ_SIZE, READS),
                 DynamoWebhookOutbox(table),
                 lambda: DynamoIdempotencyRecords(table).reserve(f"contract#{uuid.uuid4()}", "fp"), raised)


def _memory() -> Sides:
    from tests.fakes.store import InMemoryIdempotencyRecords
    from tests.fakes.webhooks_store import InMemoryWebhookDeliveries, InMemoryWebhookEndpoints, InMemoryWebhookOutbox

    records = InMemoryIdempotencyRecords()
    outbox = InMemoryWebhookOutbox()
    return Sides("memory", InMemoryWebhookEndpoints(), InMemoryWebhookDeliveries(READ_SIZE, READS), outbox,
                 lambda: records.reserve(f"contract#{uuid.uuid4()}", "fp"), outbox.raised.get)


@pytest.fixture(params=["dynamodb", "memory"])
def webhooks(request: pytest.FixtureRequest) -> Sides:
    if request.param == "dynamodb":
        return _dynamo(request.getfixturevalue("moto_table"))
    return _memory()


@pytest.fixture
def organization_id() -> str:
    """An organization of its own per test: the moto table is shared by the whole package."""
    return f"org_{uuid.uuid4()}"


def stamp(seconds: float = 0) -> str:
    return clock.to_storage(T0 + timedelta(seconds=seconds))


def endpoint(organization_id: str, created: float = 0, **over: Any) -> Endpoint:
    fields: dict[str, Any] = dict(
        id=str(uuid.uuid4()), organizationId=organization_id, env="test", url="http://localhost:9/hook",
        events=("post.published",), description=None, projectId=None, metadata={"team": "growth"},
        status="active", consecutiveFailureCount=0, secretCiphertext="sealed-1", createdAt=stamp(created),
        updatedAt=stamp(created))
    return Endpoint(**{**fields, **over})


def delivery(endpoint_id: str, created: float = 0, **over: Any) -> Delivery:
    fields: dict[str, Any] = dict(
        id=str(uuid.uuid4()), endpointId=endpoint_id, organizationId="org_x", eventId="evt_01", eventType="test.ping",
        eventCreatedAt="2026-05-20T09:00:00Z", data={"endpointId": endpoint_id}, status="pending", attempts=0,
        createdAt=stamp(created), nextRetryAt=stamp(created))
    return Delivery(**{**fields, **over})
