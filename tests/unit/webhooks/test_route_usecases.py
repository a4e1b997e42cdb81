"""The webhook routes' use cases on the in-memory ports (webhooks/service.py):
create with its limit and its secret kept only encrypted, list and get with
tenancy, patch on the endpoint as read, delete, rotation, the test ping and
replay through the outbox, and the deliveries' filters and cursors."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from layers_shared import clock
from layers_shared.domain.errors import Conflict, NotFound, ValidationFailed
from layers_shared.domain.ports import Remember
from layers_shared.models.entities import Project
from layers_shared.webhooks import rules, service, ssrf
from layers_shared.webhooks.ports import Delivery
from tests.fakes.store import InMemoryProjects, InMemoryReservation
from tests.fakes.webhooks_store import (
    InMemorySecretBox, InMemoryWebhookDeliveries, InMemoryWebhookEndpoints, InMemoryWebhookOutbox,
)

ORG, OTHER = "org_11111111-1111-4111-8111-111111111111", "org_22222222-2222-4222-8222-222222222222"
PROJECT = "prj_33333333-3333-4333-8333-333333333333"
NOW = datetime(2026, 5, 20, 9, 0, tzinfo=timezone.utc)
CALLER = service.Caller(ORG, "test")
URL = "http://localhost:9/hook"  # a test key's loopback: no lookup


@pytest.fixture
def ports() -> service.Ports:
    projects = InMemoryProjects()
    for org, pid in ((ORG, PROJECT), (OTHER, "prj_44444444-4444-4444-8444-444444444444")):
        projects.add(Project(id=pid, organizationId=org, name="p", createdAt="2026-01-01T00:00:00.000Z"))
    return service.Ports(InMemoryWebhookEndpoints(), InMemoryWebhookDeliveries(), InMemoryWebhookOutbox(), projects,
                         InMemorySecretBox())


def create(ports, body=None, caller=CALLER, at=NOW, remember=None) -> service.Revealed:
    command = service.parse_create(body or {"url": URL, "events": ["post.published"]}, caller.env)
    return service.create(ports, caller, command, at, remember)


def ref(endpoint_id: str, caller=CALLER):
    return service.endpoint_ref(caller, endpoint_id)


def keeping(kept: list) -> service.Remembering:
    """An Idempotency-Key's Remember that records what the handler would keep."""
    reservation = InMemoryReservation()

    def remember(result):
        kept.append(result)
        return Remember(reservation, result)

    return remember


# -- create -----------------------------------------------------------------------------------

def test_create_stores_an_active_endpoint_and_shows_its_secret_once(ports):
    done = create(ports, {"url": URL, "events": ["post.failed"], "projectId": PROJECT, "metadata": {"a": "1"},
                          "description": "d"})
    stored = ports.endpoints.get(done.endpoint.id)
    assert stored == done.endpoint
    assert (stored.status, stored.consecutiveFailureCount, stored.projectId, stored.env) == (
        "active", 0, PROJECT, "test")
    assert done.secret.startswith("whsec_") and done.ciphertext == stored.secretCiphertext
    assert ports.secrets.decrypt(stored.id, stored.secretCiphertext) == done.secret
    # A replay of the key decrypts what was kept.
    kept = {"endpoint": {"id": stored.id}, "signingSecretCiphertext": done.ciphertext}
    assert service.reveal_secret(ports.secrets, kept) == {"endpoint": {"id": stored.id}, "signingSecret": done.secret}


def test_every_problem_of_a_create_body_is_reported_at_once():
    with pytest.raises(ValidationFailed) as refused:
        service.parse_create({"url": "ftp://x", "events": ["post.nope", "post.failed", "post.failed"], "extra": 1,
                              "metadata": {"k": 5}}, "test")
    assert sorted((i["path"], i["code"]) for i in refused.value.issues) == [
        ("events[0]", "unknown_event"), ("events[2]", "duplicate"), ("extra", "unknown_field"),
        ("metadata.k", "invalid_type"), ("url", "invalid_url")]


def test_a_live_url_resolving_to_a_private_address_is_refused():
    ssrf.use(ssrf.StaticResolver({"hooks.example": ["10.0.0.7"]}))
    try:
        with pytest.raises(ValidationFailed) as refused:
            service.parse_create({"url": "https://hooks.example/in", "events": ["post.failed"]}, "live")
    finally:
        ssrf.use(None)
    assert [i["code"] for i in refused.value.issues] == ["forbidden_address"]


@pytest.mark.parametrize("project", ["prj_44444444-4444-4444-8444-444444444444", "prj_nope"])
def test_another_organizations_or_an_unknown_project_is_not_found(ports, project):
    with pytest.raises(NotFound) as missing:
        create(ports, {"url": URL, "events": ["post.failed"], "projectId": project})
    assert missing.value.details == {"projectId": project}
    assert ports.endpoints.of_organization(ORG) == []


def test_the_21st_endpoint_is_a_conflict(ports):
    for _ in range(rules.MAX_ENDPOINTS):
        create(ports)
    with pytest.raises(Conflict) as refused:
        create(ports)
    assert refused.value.details == {"reason": "ENDPOINT_LIMIT", "limit": rules.MAX_ENDPOINTS}
    create(ports, caller=service.Caller(OTHER, "test"))  # the limit is per organization


def test_the_keys_answer_is_kept_with_the_endpoint(ports):
    kept: list = []
    done = create(ports, remember=keeping(kept))
    assert kept == [done] and ports.endpoints.answers == [done]


# -- list / get -------------------------------------------------------------------------------

def test_the_list_pages_newest_first_through_cursors(ports):
    made = [create(ports, at=NOW + timedelta(seconds=i)).endpoint.id for i in range(5)]
    create(ports, caller=service.Caller(OTHER, "test"))
    seen, cursor = [], None
    while True:
        query = {"limit": ["2"], **({"cursor": [cursor]} if cursor else {})}
        listing = service.list_endpoints(ports, service.parse_list_endpoints(query, ORG))
        seen.append([e.id for e in listing.endpoints])
        cursor = listing.next_cursor
        if cursor is None:
            break
    assert seen == [made[4:2:-1], made[2:0:-1], made[:1]]


def test_a_list_cursor_belongs_to_its_organization(ports):
    for i in range(2):
        create(ports, at=NOW + timedelta(seconds=i))
    cursor = service.list_endpoints(ports, service.parse_list_endpoints({"limit": ["1"]}, ORG)).next_cursor
    with pytest.raises(ValidationFailed) as refused:
        service.parse_list_endpoints({"cursor": [cursor]}, OTHER)
    assert refused.value.issues[0]["code"] == "invalid_cursor"


def test_another_organizations_endpoint_is_not_found(ports):
    made = create(ports).endpoint
    assert service.get(ports, ref(made.id.upper())) == made  # ids are read case-blind
    for wrong in (ref(made.id, service.Caller(OTHER, "test")), ref("not-a-uuid")):
        with pytest.raises(NotFound) as missing:
            service.get(ports, wrong)
        assert missing.value.details == {"endpointId": wrong.raw}


# -- patch / delete ---------------------------------------------------------------------------

def pending_delivery(ports, endpoint_id: str, n: int, status: str = "pending") -> Delivery:
    made = Delivery(id=f"00000000-0000-4000-8000-{n:012d}", endpointId=endpoint_id, organizationId=ORG,
                    eventId=f"evt_{n}", eventType="post.failed", eventCreatedAt="2026-05-20T08:00:00Z",
                    data={"n": n}, status=status, attempts=0, createdAt=clock.to_storage(NOW - timedelta(minutes=n)))
    ports.deliveries.add(made)
    return made


def test_a_patch_merges_metadata_and_reactivation_resets_the_failures(ports):
    made = create(ports, {"url": URL, "events": ["post.failed"], "metadata": {"a": "1", "b": "2"}}).endpoint
    ports.endpoints.count_failure(made.id)
    ports.endpoints.auto_pause(made.id, clock.to_storage(NOW))
    later = NOW + timedelta(minutes=1)
    updated = service.update(ports, ref(made.id), {"status": "active", "metadata": {"a": None, "c": "3"},
                                                   "events": ["test.ping"]}, later)
    assert ports.endpoints.get(made.id) == updated
    assert (updated.status, updated.consecutiveFailureCount, updated.metadata, updated.events, updated.updatedAt) == (
        "active", 0, {"b": "2", "c": "3"}, ("test.ping",), clock.to_storage(later))


def test_a_patch_is_checked_against_the_endpoints_own_key_env(ports):
    made = create(ports).endpoint
    with pytest.raises(ValidationFailed) as refused:
        service.update(ports, ref(made.id), {}, NOW)
    assert refused.value.issues[0]["code"] == "empty_patch"
    many = {f"k{i}": "v" for i in range(rules.MAX_METADATA)}
    service.update(ports, ref(made.id), {"metadata": many}, NOW)
    with pytest.raises(ValidationFailed) as refused:
        service.update(ports, ref(made.id), {"metadata": {"one-more": "v"}}, NOW)
    assert refused.value.issues == [{"path": "metadata", "code": "too_many",
                                     "message": "at most 20 keys after the merge"}]


def test_a_patch_racing_another_change_is_a_retryable_conflict(ports, monkeypatch):
    made = create(ports).endpoint
    real_update = ports.endpoints.update

    def raced(endpoint, changes, remember=None):
        real_update(endpoint, {"description": "theirs", "updatedAt": clock.to_storage(NOW + timedelta(seconds=1))})
        real_update(endpoint, changes, remember)

    monkeypatch.setattr(ports.endpoints, "update", raced)
    with pytest.raises(Conflict) as refused:
        service.update(ports, ref(made.id), {"description": "mine"}, NOW + timedelta(seconds=2))
    assert refused.value.reason == "CONCURRENT_UPDATE"
    assert ports.endpoints.get(made.id).description == "theirs"


def test_pausing_abandons_unfinished_deliveries_only(ports):
    made = create(ports).endpoint
    waiting, done = pending_delivery(ports, made.id, 1), pending_delivery(ports, made.id, 2, status="delivered")
    service.update(ports, ref(made.id), {"status": "paused"}, NOW)
    assert ports.deliveries.get(waiting.id).status == "abandoned"
    assert ports.deliveries.get(done.id).status == "delivered"


def test_delete_abandons_and_a_second_delete_is_not_found(ports):
    made = create(ports).endpoint
    waiting = pending_delivery(ports, made.id, 1)
    kept: list = []
    assert service.delete(ports, ref(made.id), NOW, keeping(kept)) == made.id
    assert kept == [made.id] and ports.endpoints.get(made.id) is None
    assert ports.deliveries.get(waiting.id).abandonedAt == clock.to_storage(NOW)
    with pytest.raises(NotFound):
        service.delete(ports, ref(made.id), NOW)
    create(ports)  # the place is free again


# -- rotate / test / replay -------------------------------------------------------------------

def test_rotation_signs_with_both_secrets_for_a_day(ports):
    first = create(ports)
    done = service.rotate(ports, ref(first.endpoint.id), NOW)
    stored = ports.endpoints.get(first.endpoint.id)
    assert stored == done.endpoint and done.secret != first.secret
    assert ports.secrets.decrypt(stored.id, stored.secretCiphertext) == done.secret
    assert ports.secrets.decrypt(stored.id, stored.previousSecretCiphertext) == first.secret
    assert stored.previousSecretUntil == clock.to_storage(NOW + timedelta(hours=24))


def test_a_rotation_racing_another_is_a_conflict(ports, monkeypatch):
    made = create(ports).endpoint
    real_rotate = ports.endpoints.rotate

    def raced(endpoint, ciphertext, until, stamp, remember=None):
        real_rotate(endpoint, "sealed-by-the-other", until, stamp)
        real_rotate(endpoint, ciphertext, until, stamp, remember)

    monkeypatch.setattr(ports.endpoints, "rotate", raced)
    with pytest.raises(Conflict) as refused:
        service.rotate(ports, ref(made.id), NOW)
    assert refused.value.reason == "CONCURRENT_UPDATE"


def test_a_test_ping_is_an_outbox_event_addressed_to_the_endpoint(ports):
    made = create(ports, {"url": URL, "events": ["post.failed"]}).endpoint
    kept: list = []
    planned = service.test(ports, ref(made.id), NOW, keeping(kept))
    [(change, raised)] = ports.outbox.raised.items()
    [event] = raised.events
    assert change.startswith(f"ping#{made.id}#") and raised.organization_id == ORG
    assert (event["type"], event["endpointId"], event["data"], event["id"]) == (
        "test.ping", made.id, {"endpointId": made.id}, planned.event_id)
    assert planned.delivery_id == rules.fanout_delivery_id(planned.event_id, made.id)
    assert kept == [planned] and ports.outbox.answers == [planned]


def test_a_replay_raises_a_new_event_with_the_same_data(ports):
    made = create(ports).endpoint
    original = pending_delivery(ports, made.id, 1, status="failed")
    done = service.replay(ports, CALLER, original.id.upper(), NOW)
    [raised] = ports.outbox.raised.values()
    [event] = raised.events
    assert (event["type"], event["data"], event["replayOf"], event["replayOfDelivery"], event["endpointId"]) == (
        "post.failed", {"n": 1}, original.eventId, original.id, made.id)
    assert event["id"] != original.eventId
    assert done == service.Replayed(original.id, rules.fanout_delivery_id(event["id"], made.id),
                                    clock.to_storage(NOW))


def test_a_replay_to_a_paused_endpoint_is_a_conflict_and_of_another_org_not_found(ports):
    made = create(ports).endpoint
    original = pending_delivery(ports, made.id, 1, status="delivered")
    with pytest.raises(NotFound):
        service.replay(ports, service.Caller(OTHER, "test"), original.id, NOW)
    service.update(ports, ref(made.id), {"status": "paused"}, NOW)
    with pytest.raises(Conflict) as refused:
        service.replay(ports, CALLER, original.id, NOW)
    assert refused.value.details == {"reason": "ENDPOINT_PAUSED", "endpointId": made.id}
    ports.endpoints.delete(ports.endpoints.get(made.id))
    with pytest.raises(NotFound):  # the endpoint is gone: so is what could be replayed
        service.replay(ports, CALLER, original.id, NOW)
    assert ports.outbox.raised == {}


# -- deliveries -------------------------------------------------------------------------------

def test_deliveries_filter_and_page_through_cursors(ports):
    made = create(ports).endpoint
    deliveries = [pending_delivery(ports, made.id, n, status="failed" if n % 2 else "delivered") for n in range(5)]
    seen, cursor = [], None
    while True:
        query = {"status": ["failed"], "limit": ["1"], **({"cursor": [cursor]} if cursor else {})}
        listing = service.list_deliveries(ports, ref(made.id), query)
        seen += [d.id for d in listing.deliveries]
        cursor = listing.next_cursor
        if cursor is None:
            break
    assert seen == [deliveries[1].id, deliveries[3].id]  # newest first: n is minutes before NOW
    with pytest.raises(ValidationFailed) as refused:  # the cursor is bound to the filters
        service.list_deliveries(ports, ref(made.id), {"status": ["delivered"], "cursor": [
            service.list_deliveries(ports, ref(made.id), {"status": ["failed"], "limit": ["1"]}).next_cursor]})
    assert refused.value.issues[0]["code"] == "invalid_cursor"


def test_the_endpoint_is_looked_up_before_the_query_is_checked(ports):
    made = create(ports).endpoint
    with pytest.raises(NotFound):
        service.list_deliveries(ports, ref(made.id, service.Caller(OTHER, "test")), {"status": ["nope"]})
    with pytest.raises(ValidationFailed) as refused:
        service.list_deliveries(ports, ref(made.id), {"status": ["nope"], "eventType": ["x"], "limit": ["0"],
                                                      "other": ["1"]})
    assert [i["path"] for i in refused.value.issues] == ["limit", "other", "eventType", "status"]


def test_records_are_copies(ports):
    """What a use case changes on a record it read is not stored (as with DynamoDB)."""
    made = create(ports).endpoint
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status = "paused"  # type: ignore[misc]
    service.get(ports, ref(made.id)).metadata["x"] = "y"
    assert ports.endpoints.get(made.id).metadata == {}
