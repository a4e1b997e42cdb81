"""The webhook routes' use cases (webhooks.md, Routes), on the webhook ports:
commands in, records or domain errors out. The handlers
(layers_shared/http/webhook_routes.py) parse the request and render the answer."""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Mapping

from layers_shared import clock, ids
from layers_shared.domain import pagination
from layers_shared.domain.errors import Conflict, NotFound, ValidationFailed, issue
from layers_shared.domain.ports import ChangeEvents, Remember, StaleWrite
from layers_shared.services import queries
from layers_shared.webhooks import outbox, rules, signing, ssrf
from layers_shared.webhooks.ports import (
    Delivery, DeliveryListQuery, Endpoint, EndpointLimit, position,
)

if TYPE_CHECKING:
    from layers_shared.domain.ports import Projects
    from layers_shared.webhooks.ports import SecretBox, WebhookDeliveries, WebhookEndpoints, WebhookOutbox

CREATE_FIELDS = ("url", "events", "description", "projectId", "metadata")
PATCH_FIELDS = ("url", "events", "description", "status", "metadata")
DEFAULT_LIMIT, MAX_LIMIT = 25, 100


@dataclass(frozen=True)
class Ports:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    outbox: WebhookOutbox
    projects: Projects
    secrets: SecretBox


@dataclass(frozen=True)
class Caller:
    organization_id: str
    env: str  # the API key's: what URLs its endpoints may use


# With an Idempotency-Key, how the handler's answer to a result is kept with the change.
Remembering = Callable[[Any], Remember]


# -- validation (every issue at once) ------------------------------------------------------

def _unknown(names: Any, allowed: tuple[str, ...]) -> list[dict[str, str]]:
    return [issue(k, "unknown_field", "unknown field") for k in names if k not in allowed]


def _address_issues(url: str, env: str) -> list[dict[str, str]]:
    try:
        ssrf.check(url, env)
    except ssrf.Refused as refused:
        return [issue("url", refused.code, str(refused))]
    return []


def _url_issues(url: Any, env: str) -> list[dict[str, str]]:
    return rules.url_issues(url, env) or _address_issues(url, env)


@dataclass(frozen=True)
class CreateEndpoint:
    url: str
    events: list[str]
    description: str | None
    project_id: str | None  # as the partner wrote it
    metadata: dict[str, str]


def parse_create(body: dict[str, Any], env: str) -> CreateEndpoint:
    found = _unknown(body, CREATE_FIELDS)
    if "url" not in body:
        found.append(issue("url", "required", "url is required"))
    else:
        found += _url_issues(body["url"], env)
    if "events" not in body:
        found.append(issue("events", "required", "events is required"))
    else:
        found += rules.event_issues(body["events"])
    found += rules.description_issues(body.get("description"))
    if "projectId" in body and body["projectId"] is not None and not isinstance(body["projectId"], str):
        found.append(issue("projectId", "invalid_type", "must be a project id"))
    if "metadata" in body:
        found += rules.metadata_issues(body["metadata"], patch=False)
    if found:
        raise ValidationFailed(found)
    return CreateEndpoint(body["url"], list(body["events"]), body.get("description"), body.get("projectId"),
                          dict(body.get("metadata") or {}))


def _patch_issues(body: dict[str, Any], env: str) -> list[dict[str, str]]:
    found = _unknown(body, PATCH_FIELDS)
    if not body:
        found.append(issue("", "empty_patch", "give at least one of " + ", ".join(PATCH_FIELDS)))
    if "url" in body:
        found += _url_issues(body["url"], env)
    if "events" in body:
        found += rules.event_issues(body["events"])
    if "description" in body:
        found += rules.description_issues(body["description"])
    if "status" in body and body["status"] not in ("active", "paused"):
        found.append(issue("status", "invalid_enum", "active or paused"))
    if "metadata" in body:
        found += rules.metadata_issues(body["metadata"], patch=True)
    return found


# -- lookups: another organization's endpoint or delivery is not found ------------------------

def endpoint_ref(caller: Caller, raw: str) -> queries.ById:
    return queries.ById(caller.organization_id, rules.path_uuid(raw), raw)


def _endpoint(ports: Ports, ref: queries.ById, consistent: bool = True) -> Endpoint:
    found = ports.endpoints.get(ref.ident, consistent=consistent) if ref.ident else None
    if found is None or found.organizationId != ref.organization_id:
        raise NotFound("Webhook endpoint", ref.raw, endpointId=ref.raw)
    return found


def _abandon_unfinished(ports: Ports, endpoint_id: str, now: datetime) -> int:
    stamp = clock.to_storage(now)
    return sum(ports.deliveries.abandon(d.id, stamp) for d in ports.deliveries.unfinished(endpoint_id))


# -- create / list / get / patch / delete --------------------------------------------------

@dataclass(frozen=True)
class Revealed:
    """An endpoint with its new signing secret: shown once, kept only encrypted
    (the Idempotency-Key's record keeps `ciphertext`; a replay decrypts it)."""

    endpoint: Endpoint
    secret: str
    ciphertext: str


def create(ports: Ports, caller: Caller, command: CreateEndpoint, now: datetime,
           remember: Remembering | None = None) -> Revealed:
    project_id = None
    if command.project_id is not None:
        ref = queries.ById(caller.organization_id, ids.normalize_path_id(command.project_id, "prj"),
                           command.project_id)
        project_id = queries.get_project(ports.projects, ref).id
    endpoint_id = str(uuid.uuid4())
    secret = signing.new_secret()
    ciphertext = ports.secrets.encrypt(endpoint_id, secret)
    stamp = clock.to_storage(now)
    endpoint = Endpoint(id=endpoint_id, organizationId=caller.organization_id, env=caller.env, url=command.url,
                        events=tuple(command.events), description=command.description, projectId=project_id,
                        metadata=dict(command.metadata), status="active", consecutiveFailureCount=0,
                        secretCiphertext=ciphertext, createdAt=stamp, updatedAt=stamp)
    done = Revealed(endpoint, secret, ciphertext)
    try:
        ports.endpoints.create(endpoint, remember(done) if remember else None)
    except EndpointLimit:
        raise Conflict("ENDPOINT_LIMIT", f"An organization has at most {rules.MAX_ENDPOINTS} webhook endpoints; "
                       "delete one first.", limit=rules.MAX_ENDPOINTS) from None
    return done


def reveal_secret(secrets: SecretBox, body: Any) -> Any:
    """The replay of a create or rotate: the stored answer with its secret decrypted."""
    if isinstance(body, dict) and "signingSecretCiphertext" in body:
        body = dict(body)
        ciphertext = body.pop("signingSecretCiphertext")
        body["signingSecret"] = secrets.decrypt(body["endpoint"]["id"], ciphertext)
    return body


@dataclass(frozen=True)
class ListEndpoints:
    organization_id: str
    limit: int
    after: str | None


@dataclass(frozen=True)
class EndpointListing:
    endpoints: list[Endpoint]
    next_cursor: str | None


def _endpoints_digest(organization_id: str) -> str:
    return pagination.query_digest({"r": "webhook-endpoints", "o": organization_id})


def parse_list_endpoints(query: Mapping[str, list[str]], organization_id: str) -> ListEndpoints:
    limit = pagination.parse_limit(_one(query, "limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    problems = _unknown(query, ("limit", "cursor"))
    cursor = _one(query, "cursor")
    after = pagination.decode(cursor, _endpoints_digest(organization_id))["sk"] if cursor else None
    if problems:
        raise ValidationFailed(problems)
    return ListEndpoints(organization_id, limit, after)


def list_endpoints(ports: Ports, command: ListEndpoints) -> EndpointListing:
    # At most rules.MAX_ENDPOINTS of them: one read, paged here.
    found = [e for e in ports.endpoints.of_organization(command.organization_id)
             if command.after is None or position(e) < command.after]
    page = found[:command.limit]
    more = len(found) > command.limit
    cursor = pagination.encode({"sk": position(page[-1])}, _endpoints_digest(command.organization_id)) \
        if more else None
    return EndpointListing(page, cursor)


def get(ports: Ports, ref: queries.ById) -> Endpoint:
    return _endpoint(ports, ref, consistent=False)


def update(ports: Ports, ref: queries.ById, body: dict[str, Any], now: datetime,
           remember: Remembering | None = None) -> Endpoint:
    endpoint = _endpoint(ports, ref)
    problems = _patch_issues(body, endpoint.env)
    if problems:
        raise ValidationFailed(problems)
    changes: dict[str, Any] = {"updatedAt": clock.to_storage(now)}
    for name in ("url", "events", "description"):
        if name in body:
            changes[name] = body[name]
    if "metadata" in body:
        changes["metadata"] = rules.merged_metadata(dict(endpoint.metadata), body["metadata"])
        if len(changes["metadata"]) > rules.MAX_METADATA:
            raise ValidationFailed([issue("metadata", "too_many", f"at most {rules.MAX_METADATA} keys after the "
                                          "merge")])
    if "status" in body:
        changes["status"] = body["status"]
        if body["status"] == "active":
            changes["consecutiveFailureCount"] = 0
    updated = dataclasses.replace(endpoint, **{k: tuple(v) if k == "events" else v for k, v in changes.items()})
    try:
        ports.endpoints.update(endpoint, changes, remember(updated) if remember else None)
    except StaleWrite:
        raise Conflict("CONCURRENT_UPDATE", "The endpoint changed during this call; retry.") from None
    if changes.get("status") == "paused":
        _abandon_unfinished(ports, endpoint.id, now)
    return updated


def delete(ports: Ports, ref: queries.ById, now: datetime, remember: Remembering | None = None) -> str:
    """The deleted endpoint's id; its unfinished deliveries are abandoned."""
    endpoint = _endpoint(ports, ref)
    try:
        ports.endpoints.delete(endpoint, remember(endpoint.id) if remember else None)
    except StaleWrite:
        raise NotFound("Webhook endpoint", endpoint.id, endpointId=endpoint.id) from None
    _abandon_unfinished(ports, endpoint.id, now)
    return endpoint.id


# -- rotate / test / deliveries / replay ---------------------------------------------------

def rotate(ports: Ports, ref: queries.ById, now: datetime, remember: Remembering | None = None) -> Revealed:
    endpoint = _endpoint(ports, ref)
    secret = signing.new_secret()
    ciphertext = ports.secrets.encrypt(endpoint.id, secret)
    stamp = clock.to_storage(now)
    # The old secret keeps signing for the overlap (an attempt reads previousSecretUntil).
    until = clock.to_storage(now + timedelta(seconds=rules.ROTATION_OVERLAP_SECONDS))
    done = Revealed(dataclasses.replace(endpoint, secretCiphertext=ciphertext,
                                        previousSecretCiphertext=endpoint.secretCiphertext,
                                        previousSecretUntil=until, updatedAt=stamp), secret, ciphertext)
    try:
        ports.endpoints.rotate(endpoint, ciphertext, until, stamp, remember(done) if remember else None)
    except StaleWrite:
        raise Conflict("CONCURRENT_UPDATE", "The secret was rotated during this call; retry.") from None
    return done


@dataclass(frozen=True)
class Planned:
    """A delivery planned through the outbox: its id is known before the fan-out makes it."""

    delivery_id: str
    event_id: str
    at: str


def test(ports: Ports, ref: queries.ById, now: datetime, remember: Remembering | None = None) -> Planned:
    """A test.ping through the outbox like every other event, addressed to this
    endpoint only: the delivery id is derived from the event and the endpoint."""
    endpoint = _endpoint(ports, ref)
    change = f"ping#{endpoint.id}#{uuid.uuid4()}"
    event = outbox.event(change, 0, "test.ping", {"endpointId": endpoint.id}, None, now)
    event["endpointId"] = endpoint.id
    done = Planned(rules.fanout_delivery_id(event["id"], endpoint.id), event["id"], clock.to_storage(now))
    ports.outbox.add(ChangeEvents(change, endpoint.organizationId, [event], now), remember(done) if remember else None)
    return done


@dataclass(frozen=True)
class DeliveryListing:
    deliveries: list[Delivery]
    next_cursor: str | None


def list_deliveries(ports: Ports, ref: queries.ById, query: Mapping[str, list[str]]) -> DeliveryListing:
    """The endpoint is looked up first: a bad query of another organization's endpoint is a 404."""
    endpoint = _endpoint(ports, ref, consistent=False)
    problems = _unknown(query, ("limit", "cursor", "eventType", "status"))
    limit_issues: list[dict[str, str]] = []
    try:
        limit = pagination.parse_limit(_one(query, "limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    except ValidationFailed as error:
        limit_issues, limit = error.details.get("issues", []), DEFAULT_LIMIT
    event_type, status = _one(query, "eventType"), _one(query, "status")
    if event_type is not None and event_type not in rules.EVENT_TYPES:
        problems.append(issue("eventType", "invalid_enum", "one of " + ", ".join(rules.EVENT_TYPES)))
    if status is not None and status not in rules.DELIVERY_STATUSES:
        problems.append(issue("status", "invalid_enum", "one of " + ", ".join(rules.DELIVERY_STATUSES)))
    if problems or limit_issues:
        raise ValidationFailed(limit_issues + problems)
    digest = pagination.query_digest({"r": "webhook-deliveries", "e": endpoint.id, "t": event_type, "s": status})
    cursor = _one(query, "cursor")
    after = pagination.decode(cursor, digest)["sk"] if cursor else None
    page = ports.deliveries.page(DeliveryListQuery(endpoint.id, event_type, status, limit, after))
    return DeliveryListing(page.deliveries,
                           pagination.encode({"sk": page.resume_after}, digest) if page.resume_after else None)


@dataclass(frozen=True)
class Replayed:
    original_id: str
    replay_id: str
    at: str


def replay(ports: Ports, caller: Caller, raw: str, now: datetime, remember: Remembering | None = None) -> Replayed:
    delivery_id = rules.path_uuid(raw)
    original = ports.deliveries.get(delivery_id, consistent=False) if delivery_id else None
    if original is None or original.organizationId != caller.organization_id:
        raise NotFound("Webhook delivery", raw, deliveryId=raw)
    endpoint = ports.endpoints.get(original.endpointId)
    if endpoint is None or endpoint.organizationId != caller.organization_id:
        raise NotFound("Webhook delivery", raw, deliveryId=raw)
    if endpoint.status != "active":
        raise Conflict("ENDPOINT_PAUSED", "The endpoint is paused; set it active to replay.", endpointId=endpoint.id)
    change = f"replay#{original.id}#{uuid.uuid4()}"
    event = outbox.event(change, 0, original.eventType, original.data, None, now)
    event.update({"endpointId": endpoint.id, "replayOf": original.eventId, "replayOfDelivery": original.id})
    done = Replayed(original.id, rules.fanout_delivery_id(event["id"], endpoint.id), clock.to_storage(now))
    ports.outbox.add(ChangeEvents(change, endpoint.organizationId, [event], now), remember(done) if remember else None)
    return done


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None
