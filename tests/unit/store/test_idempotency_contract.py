"""The `IdempotencyRecords` port: the DynamoDB adapter and the in-memory fake
answer alike (each test runs on both, conftest.py `world`)."""
from __future__ import annotations

import uuid

import pytest

from layers_shared.domain.errors import IdempotencyConflict, IdempotencyInProgress
from layers_shared.idempotency import LEASE_SECONDS, TTL_SECONDS, StoredResponse
from tests.unit.store.frozen_clock import frozen, later  # noqa: F401 (frozen: an autouse fixture)

ANSWER = StoredResponse(201, {"id": "sp_1", "text": "café ☕"}, {"Location": "/v1/x"})


@pytest.fixture
def scope() -> str:
    return f"key_1#POST /v1/x#{uuid.uuid4()}"


def test_the_first_request_holds_the_key_a_second_waits(world, scope):
    records = world.ports["idempotency"]
    held = records.reserve(scope, "fp")
    assert not isinstance(held, StoredResponse) and not held.completed
    with pytest.raises(IdempotencyInProgress):
        records.reserve(scope, "fp")
    with pytest.raises(IdempotencyConflict):
        records.reserve(scope, "another body")


def test_a_completed_key_replays_its_answer_and_refuses_another_body(world, scope):
    records = world.ports["idempotency"]
    records.reserve(scope, "fp").complete(ANSWER)
    assert records.reserve(scope, "fp") == ANSWER
    with pytest.raises(IdempotencyConflict):
        records.reserve(scope, "another body")


def test_an_abandoned_key_can_be_taken_again_a_completed_one_cannot_be_abandoned(world, scope):
    records = world.ports["idempotency"]
    records.reserve(scope, "fp").abandon()
    again = records.reserve(scope, "other fp is fine: the first never answered")
    again.complete(ANSWER)
    again.abandon()
    assert records.reserve(scope, "other fp is fine: the first never answered") == ANSWER


def test_a_dead_holders_key_is_taken_over_and_its_late_answer_is_dropped(world, scope):
    records = world.ports["idempotency"]
    dead = records.reserve(scope, "fp")
    later(LEASE_SECONDS - 1)
    with pytest.raises(IdempotencyInProgress):
        records.reserve(scope, "fp")
    later(2)
    successor = records.reserve(scope, "fp")
    assert not isinstance(successor, StoredResponse)
    dead.complete(StoredResponse(500, {"late": True}, {}))
    dead.abandon()  # neither touches the successor's record
    with pytest.raises(IdempotencyInProgress):
        records.reserve(scope, "fp")
    successor.complete(ANSWER)
    assert records.reserve(scope, "fp") == ANSWER


def test_an_expired_key_is_forgotten(world, scope):
    records = world.ports["idempotency"]
    records.reserve(scope, "fp").complete(ANSWER)
    later(TTL_SECONDS + 1)
    assert not isinstance(records.reserve(scope, "a new body"), StoredResponse)
