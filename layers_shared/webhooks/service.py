"""The webhook routes' use cases (webhooks.md, Routes). One per function."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from layers_shared import clock, errors, idempotency, ids
from layers_shared.domain import pagination
from layers_shared.domain.errors import ValidationFailed
from layers_shared.http.api import Request, Response
from layers_shared.models.entities import Project
from layers_shared.store import items, keys
from layers_shared.webhooks import crypto, outbox, rules, signing, ssrf, store

CREATE_FIELDS = ("url", "events", "description", "projectId", "metadata")
PATCH_FIELDS = ("url", "events", "description", "status", "metadata")
DEFAULT_LIMIT, MAX_LIMIT = 25, 100


# -- validation (every issue at once) ------------------------------------------------------

def _unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> list[dict[str, str]]:
    return [errors.issue(k, "unknown_field", "unknown field") for k in body if k not in allowed]


def _address_issues(url: str, env: str) -> list[dict[str, str]]:
    try:
        ssrf.check(url, env)
    except ssrf.Refused as refused:
        return [errors.issue("url", refused.code, str(refused))]
    return []


def _validate_create(body: dict[str, Any], env: str) -> list[dict[str, str]]:
    found = _unknown(body, CREATE_FIELDS)
    if "url" not in body:
        found.append(errors.issue("url", "required", "url is required"))
    else:
        shape = rules.url_issues(body["url"], env)
        found += shape or _address_issues(body["url"], env)
    if "events" not in body:
        found.append(errors.issue("events", "required", "events is required"))
    else:
        found += rules.event_issues(body["events"])
    found += rules.description_issues(body.get("description"))
    if "projectId" in body and body["projectId"] is not None and not isinstance(body["projectId"], str):
        found.append(errors.issue("projectId", "invalid_type", "must be a project id"))
    if "metadata" in body:
        found += rules.metadata_issues(body["metadata"], patch=False)
    return found


def _validate_patch(body: dict[str, Any], env: str) -> list[dict[str, str]]:
    found = _unknown(body, PATCH_FIELDS)
    if not body:
        found.append(errors.issue("", "empty_patch", "give at least one of " + ", ".join(PATCH_FIELDS)))
    if "url" in body:
        shape = rules.url_issues(body["url"], env)
        found += shape or _address_issues(body["url"], env)
    if "events" in body:
        found += rules.event_issues(body["events"])
    if "description" in body:
        found += rules.description_issues(body["description"])
    if "status" in body and body["status"] not in ("active", "paused"):
        found.append(errors.issue("status", "invalid_enum", "active or paused"))
    if "metadata" in body:
        found += rules.metadata_issues(body["metadata"], patch=True)
    return found


def _project(req: Request, raw: str | None) -> str | None:
    if raw is None:
        return None
    project_id = ids.normalize_path_id(raw, "prj")
    found = items.from_item(Project, req.table.get(keys.project(project_id))) if project_id else None
    if found is None or found.organizationId != req.principal.organization_id:
        raise errors.not_found("Project", raw, projectId=raw)
    return found.id


def _endpoint(req: Request, consistent: bool = True) -> dict[str, Any]:
    raw = req.path.get("endpointId", "")
    found = store.get_endpoint(req.table, req.principal.organization_id, store.path_uuid(raw), consistent)
    if found is None:
        raise errors.not_found("Webhook endpoint", raw, endpointId=raw)
    return found


def _commit(req: Request, tx: list[dict[str, Any]], response: Response, stored_body: Any = None) -> None:
    """The writes and the Idempotency-Key's stored answer in one transaction."""
    stored = idempotency.StoredResponse(response.status, response.body if stored_body is None else stored_body,
                                        response.headers)
    idempotency.commit(req.table, tx, req.reservation, stored)


# -- create / list / get / patch / delete --------------------------------------------------

def create(req: Request) -> Response:
    body = req.json_body()
    env = req.principal.env
    problems = _validate_create(body, env)
    if problems:
        raise errors.validation(problems)
    project_id = _project(req, body.get("projectId"))
    now = clock.now()
    endpoint_id = str(uuid.uuid4())
    secret = signing.new_secret()
    ciphertext = crypto.encrypt(endpoint_id, secret)
    item = store.new_endpoint_item(endpoint_id, req.principal.organization_id, env,
                                   {**body, "projectId": project_id}, ciphertext, now)
    view = store.endpoint_view(item)
    response = Response(201, {"endpoint": view, "signingSecret": secret})
    # The Idempotency-Key's record keeps the secret encrypted; a replay decrypts it (reveal_secret).
    stored = {"endpoint": view, "signingSecretCiphertext": ciphertext}
    try:
        _commit(req, store.create_endpoint(req.table, item), response, stored)
    except idempotency.CommitFailed:
        raise errors.conflict("ENDPOINT_LIMIT", f"An organization has at most {rules.MAX_ENDPOINTS} webhook "
                              "endpoints; delete one first.", limit=rules.MAX_ENDPOINTS) from None
    return response


def reveal_secret(body: Any) -> Any:
    """The replay of a create or rotate: the stored answer with its secret decrypted."""
    if isinstance(body, dict) and "signingSecretCiphertext" in body:
        body = dict(body)
        ciphertext = body.pop("signingSecretCiphertext")
        body["signingSecret"] = crypto.decrypt(body["endpoint"]["id"], ciphertext)
    return body


def list_endpoints(req: Request) -> Response:
    limit = pagination.parse_limit(req.query_one("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    problems = _unknown({k: None for k in req.query}, ("limit", "cursor"))
    cursor = req.query_one("cursor")
    digest = pagination.query_digest({"r": "webhook-endpoints", "o": req.principal.organization_id})
    after = pagination.decode(cursor, digest)["sk"] if cursor else None
    if problems:
        raise errors.validation(problems)
    found = [e for e in store.endpoints_of(req.table, req.principal.organization_id)
             if after is None or e["GSI1SK"] < after]
    page = found[:limit]
    next_cursor = pagination.encode({"sk": page[-1]["GSI1SK"]}, digest) if len(found) > limit else None
    return Response(200, {"items": [store.endpoint_view(e) for e in page], "nextCursor": next_cursor})


def get(req: Request) -> Response:
    return Response(200, store.endpoint_view(_endpoint(req, consistent=False)))


def update(req: Request) -> Response:
    body = req.json_body()
    endpoint = _endpoint(req)
    problems = _validate_patch(body, endpoint.get("env", req.principal.env))
    if problems:
        raise errors.validation(problems)
    now = clock.now()
    stamp = clock.to_storage(now)
    sets: dict[str, Any] = {"updatedAt": stamp}
    for name in ("url", "events", "description"):
        if name in body:
            sets[name] = body[name]
    if "metadata" in body:
        sets["metadata"] = rules.merged_metadata(endpoint.get("metadata") or {}, body["metadata"])
        if len(sets["metadata"]) > rules.MAX_METADATA:
            raise errors.validation([errors.issue("metadata", "too_many", f"at most {rules.MAX_METADATA} keys "
                                                  "after the merge")])
    if "status" in body:
        sets["status"] = body["status"]
        if body["status"] == "active":
            sets["consecutiveFailureCount"] = 0
    names = {f"#f{i}": k for i, k in enumerate(sets)}
    values: dict[str, Any] = {f":v{i}": v for i, v in enumerate(sets.values())}
    expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
    updated = {**endpoint, **sets}
    response = Response(200, store.endpoint_view(updated))
    values[":at"] = endpoint["updatedAt"]
    tx = [req.table.tx_update(store.endpoint_key(endpoint["id"]), expression, names={**names, "#u": "updatedAt"},
                              values=values, condition="attribute_exists(PK) AND #u = :at")]
    try:
        _commit(req, tx, response)
    except idempotency.CommitFailed:
        raise errors.conflict("CONCURRENT_UPDATE", "The endpoint changed during this call; retry.") from None
    if sets.get("status") == "paused":
        store.abandon_unfinished(req.table, endpoint["id"], now)
    return response


def delete(req: Request) -> Response:
    endpoint = _endpoint(req)
    response = Response(200, {"id": endpoint["id"], "deleted": True})
    try:
        _commit(req, store.delete_endpoint(req.table, endpoint), response)
    except idempotency.CommitFailed:
        raise errors.not_found("Webhook endpoint", endpoint["id"], endpointId=endpoint["id"]) from None
    store.abandon_unfinished(req.table, endpoint["id"], clock.now())
    return response


# -- rotate / test / deliveries / replay ---------------------------------------------------

def rotate(req: Request) -> Response:
    endpoint = _endpoint(req)
    now = clock.now()
    secret = signing.new_secret()
    ciphertext = crypto.encrypt(endpoint["id"], secret)
    stamp = clock.to_storage(now)
    until = clock.to_storage(now + timedelta(seconds=rules.ROTATION_OVERLAP_SECONDS))
    view = store.endpoint_view({**endpoint, "updatedAt": stamp})
    response = Response(200, {"endpoint": view, "signingSecret": secret})
    stored = {"endpoint": view, "signingSecretCiphertext": ciphertext}
    # The old secret keeps signing for 24 h (the delivery reads previousSecretUntil).
    tx = [req.table.tx_update(
        store.endpoint_key(endpoint["id"]),
        "SET secretCiphertext = :new, previousSecretCiphertext = :old, previousSecretUntil = :until, #u = :now",
        names={"#u": "updatedAt"},
        values={":new": ciphertext, ":old": endpoint["secretCiphertext"], ":until": until, ":now": stamp},
        condition="secretCiphertext = :old")]
    try:
        _commit(req, tx, response, stored)
    except idempotency.CommitFailed:
        raise errors.conflict("CONCURRENT_UPDATE", "The secret was rotated during this call; retry.") from None
    return response


def test(req: Request) -> Response:
    """A test.ping through the outbox like every other event, addressed to this
    endpoint only: the delivery id is derived from the event and the endpoint."""
    endpoint = _endpoint(req)
    now = clock.now()
    change = f"ping#{endpoint['id']}#{uuid.uuid4()}"
    event = outbox.event(change, 0, "test.ping", {"endpointId": endpoint["id"]}, None, now)
    event["endpointId"] = endpoint["id"]
    delivery_id = store.fanout_delivery_id(event["id"], endpoint["id"])
    response = Response(202, {"deliveryId": delivery_id, "eventId": event["id"]})
    _commit(req, [outbox.tx_put(req.table, change, endpoint["organizationId"], [event], now)], response)
    return response


def deliveries(req: Request) -> Response:
    endpoint = _endpoint(req, consistent=False)
    problems = _unknown({k: None for k in req.query}, ("limit", "cursor", "eventType", "status"))
    limit_issues: list[dict[str, str]] = []
    try:
        limit = pagination.parse_limit(req.query_one("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    except ValidationFailed as error:
        limit_issues, limit = error.details.get("issues", []), DEFAULT_LIMIT
    event_type, status = req.query_one("eventType"), req.query_one("status")
    if event_type is not None and event_type not in rules.EVENT_TYPES:
        problems.append(errors.issue("eventType", "invalid_enum", "one of " + ", ".join(rules.EVENT_TYPES)))
    if status is not None and status not in rules.DELIVERY_STATUSES:
        problems.append(errors.issue("status", "invalid_enum", "one of " + ", ".join(rules.DELIVERY_STATUSES)))
    if problems or limit_issues:
        raise errors.validation(limit_issues + problems)
    digest = pagination.query_digest({"r": "webhook-deliveries", "e": endpoint["id"], "t": event_type,
                                      "s": status})
    cursor = req.query_one("cursor")
    after = pagination.decode(cursor, digest)["sk"] if cursor else None
    filters, names, values = [], {}, {}
    if event_type:
        filters.append("#t = :t")
        names["#t"], values[":t"] = "eventType", event_type
    if status:
        filters.append("#s = :s")
        names["#s"], values[":s"] = "status", status
    kwargs: dict[str, Any] = {}
    if after:
        kwargs = {"sort_name": "GSI1SK", "sort_condition": "#sk < :after", "sort_values": {":after": after}}
    found: list[dict[str, Any]] = []
    start = None
    for _ in range(5):  # bounded reads per request: a short page then carries a cursor
        page, start = req.table.query("GSI1", "GSI1PK", store.endpoint_deliveries(endpoint["id"]), forward=False,
                                      limit=100, start=start, filter_expression=" AND ".join(filters) or None,
                                      filter_names=names or None, filter_values=values or None, **kwargs)
        found += page
        if len(found) >= limit or not start:
            break
    page_items = found[:limit]
    if len(found) > limit:
        next_cursor = pagination.encode({"sk": page_items[-1]["GSI1SK"]}, digest)
    elif start:  # what was read after the page's last item was filtered out
        next_cursor = pagination.encode({"sk": start["GSI1SK"]}, digest)
    else:
        next_cursor = None
    return Response(200, {"items": [store.delivery_view(d) for d in page_items], "nextCursor": next_cursor})


def replay(req: Request) -> Response:
    raw = req.path.get("deliveryId", "")
    delivery_id = store.path_uuid(raw)
    original = store.get_delivery(req.table, delivery_id, consistent=False) if delivery_id else None
    if original is None or original.get("organizationId") != req.principal.organization_id:
        raise errors.not_found("Webhook delivery", raw, deliveryId=raw)
    endpoint = store.get_endpoint(req.table, req.principal.organization_id, original["endpointId"])
    if endpoint is None:
        raise errors.not_found("Webhook delivery", raw, deliveryId=raw)
    if endpoint.get("status") != "active":
        raise errors.conflict("ENDPOINT_PAUSED", "The endpoint is paused; set it active to replay.",
                              endpointId=endpoint["id"])
    now = clock.now()
    change = f"replay#{original['id']}#{uuid.uuid4()}"
    event = outbox.event(change, 0, original["eventType"], original.get("data") or {}, None, now)
    event.update({"endpointId": endpoint["id"], "replayOf": original["eventId"], "replayOfDelivery": original["id"]})
    replay_id = store.fanout_delivery_id(event["id"], endpoint["id"])
    response = Response(200, {"originalDeliveryId": original["id"], "replayDeliveryId": replay_id,
                              "scheduledAt": clock.to_wire(clock.to_storage(now))})
    _commit(req, [outbox.tx_put(req.table, change, endpoint["organizationId"], [event], now)], response)
    return response
