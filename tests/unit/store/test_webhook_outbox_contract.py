"""The `WebhookOutbox` port: the DynamoDB adapter and the in-memory fake
raise a change's events once, with the Idempotency-Key's answer or not at all,
and the fan-out reads back what was raised (on DynamoDB, from the stream's
image of the item). Each test runs on both sides (webhook_sides.py)."""
from __future__ import annotations

import uuid

import pytest

from layers_shared.domain.errors import IdempotencyInProgress
from layers_shared.domain.ports import ChangeEvents, Remember, StaleWrite
from layers_shared.idempotency import StoredResponse
from layers_shared.webhooks import outbox
from tests.unit.store.webhook_sides import T0, webhooks  # noqa: F401 (a fixture)


def ping(organization_id: str = "org_1") -> ChangeEvents:
    change = f"ping#e1#{uuid.uuid4()}"
    event = outbox.event(change, 0, "test.ping", {"endpointId": "e1", "none": None}, None, T0)
    return ChangeEvents(change, organization_id, [{**event, "endpointId": "e1"}], T0)


def test_a_change_raises_its_events_once(webhooks):
    raised = ping()
    assert webhooks.raised(raised.change) is None
    webhooks.outbox.add(raised)
    assert webhooks.raised(raised.change) == raised
    again = ChangeEvents(raised.change, raised.organization_id, [], T0)
    with pytest.raises(StaleWrite):
        webhooks.outbox.add(again)
    assert webhooks.raised(raised.change) == raised


def test_the_keys_answer_commits_with_the_events(webhooks):
    reservation, raised = webhooks.reservation(), ping()
    webhooks.outbox.add(raised, Remember(reservation, StoredResponse(202, {"deliveryId": "d"}, {})))
    assert reservation.completed and webhooks.raised(raised.change) == raised


def test_events_whose_key_was_taken_over_are_not_raised(webhooks):
    reservation, raised = webhooks.reservation(), ping()
    reservation.abandon()
    with pytest.raises(IdempotencyInProgress):
        webhooks.outbox.add(raised, Remember(reservation, StoredResponse(202, {}, {})))
    assert webhooks.raised(raised.change) is None


def test_the_fan_out_reads_only_inserted_outbox_items_from_the_stream():
    """The event source mapping filters so too; a record that slips through is not an event."""
    from layers_shared.store import codec
    from layers_shared.store.outbox import item, stream_changes

    raised = ping()
    image = codec.serialize(item(raised.change, raised.organization_id, raised.events, T0))
    records = [{"eventName": "MODIFY", "dynamodb": {"NewImage": image, "SequenceNumber": "1"}},
               {"eventName": "INSERT", "dynamodb": {"NewImage": codec.serialize({"PK": "SP#x", "type": "SP"}),
                                                    "SequenceNumber": "2"}},
               {"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "3"}},
               {"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": "4"}}]
    assert stream_changes(records) == [("4", raised)]
