"""The `WebhookEndpoints` port: the DynamoDB adapter and the in-memory fake
accept, refuse and return alike (each test runs on both, webhook_sides.py)."""
from __future__ import annotations

import dataclasses

import pytest

from layers_shared.domain.errors import IdempotencyInProgress
from layers_shared.domain.ports import Remember, StaleWrite
from layers_shared.idempotency import StoredResponse
from layers_shared.webhooks import rules
from layers_shared.webhooks.ports import EndpointLimit
from tests.unit.store.webhook_sides import endpoint, organization_id, stamp, webhooks  # noqa: F401 (fixtures)


def test_an_endpoint_reads_back_as_it_was_stored(webhooks, organization_id):
    made = endpoint(organization_id, description=None, projectId="prj_1", events=("post.failed", "test.ping"))
    webhooks.endpoints.create(made)
    assert webhooks.endpoints.get(made.id) == made
    assert webhooks.endpoints.get(made.id, consistent=False) == made
    assert webhooks.endpoints.get(endpoint(organization_id).id) is None


def test_what_a_caller_changes_on_a_read_is_not_stored(webhooks, organization_id):
    made = endpoint(organization_id)
    webhooks.endpoints.create(made)
    webhooks.endpoints.get(made.id).metadata["team"] = "changed"
    assert webhooks.endpoints.get(made.id).metadata == {"team": "growth"}


def test_an_organization_lists_its_own_newest_first(webhooks, organization_id):
    made = [endpoint(organization_id, created=s) for s in (5, 1, 9)]
    for e in made:
        webhooks.endpoints.create(e)
    webhooks.endpoints.create(endpoint(organization_id + "-other", created=7))
    assert [e.id for e in webhooks.endpoints.of_organization(organization_id)] == [made[2].id, made[0].id, made[1].id]


def test_the_count_holds_the_limit_and_a_delete_frees_a_place(webhooks, organization_id):
    made = [endpoint(organization_id, created=i) for i in range(rules.MAX_ENDPOINTS)]
    for e in made:
        webhooks.endpoints.create(e)
    one_more = endpoint(organization_id, created=99)
    with pytest.raises(EndpointLimit):
        webhooks.endpoints.create(one_more)
    assert webhooks.endpoints.get(one_more.id) is None
    webhooks.endpoints.delete(made[0])
    webhooks.endpoints.create(one_more)
    assert len(webhooks.endpoints.of_organization(organization_id)) == rules.MAX_ENDPOINTS


def test_create_keeps_the_keys_answer_in_the_same_write(webhooks, organization_id):
    reservation = webhooks.reservation()
    made = endpoint(organization_id)
    webhooks.endpoints.create(made, Remember(reservation, StoredResponse(201, {"endpoint": made.id}, {})))
    assert reservation.completed and webhooks.endpoints.get(made.id) == made


def test_a_create_whose_key_was_taken_over_writes_nothing(webhooks, organization_id):
    reservation = webhooks.reservation()
    reservation.abandon()  # the record is gone: a retry holds the key now
    made = endpoint(organization_id)
    with pytest.raises(IdempotencyInProgress):
        webhooks.endpoints.create(made, Remember(reservation, StoredResponse(201, {}, {})))
    assert webhooks.endpoints.get(made.id) is None
    for i in range(rules.MAX_ENDPOINTS):  # and it was not counted
        webhooks.endpoints.create(endpoint(organization_id, created=i))


def test_an_update_holds_only_on_the_endpoint_as_read(webhooks, organization_id):
    read = endpoint(organization_id)
    webhooks.endpoints.create(read)
    changes = {"url": "https://hooks.example/new", "events": ["test.ping"], "metadata": {}, "status": "paused",
               "description": "d", "updatedAt": stamp(60)}
    webhooks.endpoints.update(read, changes)
    assert webhooks.endpoints.get(read.id) == dataclasses.replace(
        read, url="https://hooks.example/new", events=("test.ping",), metadata={}, status="paused", description="d",
        updatedAt=stamp(60))
    with pytest.raises(StaleWrite):  # it moved since `read`
        webhooks.endpoints.update(read, {"status": "active", "updatedAt": stamp(61)})
    webhooks.endpoints.update(webhooks.endpoints.get(read.id), {"status": "active", "consecutiveFailureCount": 0,
                                                                 "updatedAt": stamp(62)})
    assert webhooks.endpoints.get(read.id).status == "active"


def test_an_update_of_a_deleted_endpoint_does_not_bring_it_back(webhooks, organization_id):
    read = endpoint(organization_id)
    webhooks.endpoints.create(read)
    webhooks.endpoints.delete(read)
    with pytest.raises(StaleWrite):
        webhooks.endpoints.update(read, {"status": "paused", "updatedAt": stamp(60)})
    assert webhooks.endpoints.get(read.id) is None


def test_rotation_keeps_the_old_secret_until_the_overlap_ends_and_only_once(webhooks, organization_id):
    read = endpoint(organization_id)
    webhooks.endpoints.create(read)
    reservation = webhooks.reservation()
    webhooks.endpoints.rotate(read, "sealed-2", stamp(86400), stamp(1),
                              Remember(reservation, StoredResponse(200, {}, {})))
    assert reservation.completed
    assert webhooks.endpoints.get(read.id) == dataclasses.replace(
        read, secretCiphertext="sealed-2", previousSecretCiphertext="sealed-1", previousSecretUntil=stamp(86400),
        updatedAt=stamp(1))
    with pytest.raises(StaleWrite):  # a concurrent rotation read the same secret: one of them wins
        webhooks.endpoints.rotate(read, "sealed-3", stamp(86401), stamp(2))
    assert webhooks.endpoints.get(read.id).secretCiphertext == "sealed-2"


def test_a_deleted_endpoint_is_gone_and_cannot_be_deleted_again(webhooks, organization_id):
    read = endpoint(organization_id)
    webhooks.endpoints.create(read)
    webhooks.endpoints.delete(read)
    assert webhooks.endpoints.get(read.id) is None and webhooks.endpoints.of_organization(organization_id) == []
    with pytest.raises(StaleWrite):
        webhooks.endpoints.delete(read)


def test_failures_in_a_row_count_reset_and_pause_once(webhooks, organization_id):
    read = endpoint(organization_id)
    webhooks.endpoints.create(read)
    assert [webhooks.endpoints.count_failure(read.id) for _ in range(3)] == [1, 2, 3]
    webhooks.endpoints.reset_failures(read.id)
    assert webhooks.endpoints.get(read.id).consecutiveFailureCount == 0
    webhooks.endpoints.reset_failures(read.id)  # nothing to reset: no harm
    assert webhooks.endpoints.auto_pause(read.id, stamp(5))
    assert not webhooks.endpoints.auto_pause(read.id, stamp(6))  # a concurrent attempt paused it first
    paused = webhooks.endpoints.get(read.id)
    assert (paused.status, paused.updatedAt) == ("auto_paused", stamp(5))


def test_failures_of_a_deleted_endpoint_are_not_counted(webhooks, organization_id):
    read = endpoint(organization_id)
    webhooks.endpoints.create(read)
    webhooks.endpoints.delete(read)
    assert webhooks.endpoints.count_failure(read.id) is None
    webhooks.endpoints.reset_failures(read.id)
    assert not webhooks.endpoints.auto_pause(read.id, stamp(5))
    assert webhooks.endpoints.get(read.id) is None
