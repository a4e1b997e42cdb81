"""The OpenAPI 3.1 document, generated from the route table and the pydantic
models: request bodies validated by the functions, responses of
models/responses.py, the error envelope with the codes each route documents.

Deterministic (sorted keys when written), so `tools/gen_openapi.py --check`
can compare byte for byte.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from layers_shared.models import responses as rs
from layers_shared.openapi.routes import ROUTES, Param, Route

VERSION = "1.0.0"
REF = "#/components/schemas/{model}"

ALWAYS: dict[int, tuple[str, ...]] = {401: ("UNAUTHENTICATED",), 429: ("RATE_LIMITED",), 500: ("INTERNAL",),
                                      503: ("SERVICE_UNAVAILABLE",)}
IDEMPOTENT_409 = ("CONFLICT", "IDEMPOTENCY_CONFLICT")

WHEN = {
    401: "Missing, malformed, unknown or revoked key.",
    403: "`FORBIDDEN_SCOPE`: the key lacks the route's scope (`details.requiredScope`).",
    404: "Not found, or not in your organization.",
    409: "State conflict; `details.reason` says which.",
    422: "`VALIDATION`: every issue at once in `details.issues[]` of `{path, code, message}`.",
    429: "Rate limit of the organization's endpoint class exhausted; retry after `Retry-After` seconds.",
    500: "`INTERNAL`: a bug on our side, never the intended answer to any input.",
    502: "`PLATFORM_ERROR`: the upstream provider failed.",
    503: "`SERVICE_UNAVAILABLE`: our storage is throttled or did not confirm the change; retry after "
         "`Retry-After` seconds, with the same Idempotency-Key (`details.reason` `THROTTLED`: nothing was "
         "changed; `OUTCOME_UNKNOWN`: the retry answers the outcome). `PLATFORM_ERROR`: the upstream "
         "provider is unavailable.",
}

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {"description": "`req_<ULID>`; equals `error.requestId` on errors.", "required": True,
                     "schema": {"type": "string", "pattern": "^req_[0-9A-Z]{26}$"}},
    "X-RateLimit-Endpoint-Class": {"description": "`read-light` (GET) or `write-light` (other methods). Absent "
                                                  "when the call fails authentication or scope.",
                                   "schema": {"type": "string", "enum": ["read-light", "write-light"]}},
    "X-RateLimit-Limit": {"description": "Requests allowed per window for this class.", "schema": {"type": "string"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the window.", "schema": {"type": "string"}},
    "X-RateLimit-Reset": {"description": "When the window resets (Unix seconds).", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {"description": "`true` when this answer is the stored answer of an earlier request "
                                           "with the same Idempotency-Key.",
                            "schema": {"type": "string", "enum": ["true"]}},
}

DESCRIPTION = """\
The publishing part of the Layers partner API: schedule and publish content to
TikTok and Instagram, hand it off to a phone, approve it, and follow each post.

**Auth**: `Authorization: Bearer lp_<live|test>_<keyId>_<secret>`. Test keys use
sandbox adapters (no network). Each route names its scope; `*` grants all.

**Errors**: every 4xx/5xx body is `{"error": {"code", "message", "requestId", "details"}}`;
branch on `code`. Every answer carries `X-Request-Id`.

**Idempotency**: writes accept `Idempotency-Key` (printable, 1..255 characters,
a UUID is recommended; 24 h). Same key and same request: the stored answer plus
`Idempotent-Replayed: true`. Same key, other request: `409 IDEMPOTENCY_CONFLICT`.
Same key while the first call runs: `409 CONFLICT` (`IDEMPOTENCY_IN_PROGRESS`,
`Retry-After: 1`). Only 2xx, 404, 409 and 422 answers are stored.

**Rate limits**: per organization and endpoint class (`read-light`, `write-light`);
`X-RateLimit-*` headers on every authenticated answer, `429 RATE_LIMITED` with
`Retry-After` beyond it.
"""


def _models() -> list[type[BaseModel]]:
    wanted: list[type[BaseModel]] = [rs.ErrorEnvelope]
    for route in ROUTES:
        if route.body is not None:
            wanted.append(route.body)
        wanted += [s.model for s in route.success]
    unique: list[type[BaseModel]] = []
    for model in wanted:
        if model not in unique:
            unique.append(model)
    return unique


def _strip_titles(node: Any, top: bool = True) -> Any:
    """Pydantic titles every property ("Scheduledpostids"); they only add noise."""
    if isinstance(node, dict):
        return {k: _strip_titles(v, False) for k, v in node.items()
                if not (k == "title" and not top and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip_titles(v, False) for v in node]
    return node


def component_schemas() -> dict[str, Any]:
    _, top = models_json_schema([(m, "validation") for m in _models()], ref_template=REF)
    return {name: _strip_titles(schema) for name, schema in sorted(top.get("$defs", {}).items())}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _param(p: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "in": p.where, "required": p.required, "schema": p.schema}
    if p.description:
        out["description"] = p.description
    if p.example is not None:
        out["example"] = p.example
    if p.schema.get("type") == "array":
        out["style"], out["explode"] = "form", True
    return out


def _headers(route: Route, status: int) -> dict[str, Any]:
    names = ["X-Request-Id", "X-RateLimit-Endpoint-Class", "X-RateLimit-Limit", "X-RateLimit-Remaining",
             "X-RateLimit-Reset"]
    if status == 429 or (route.idempotent and status == 409):
        names.append("Retry-After")
    if route.idempotent and status not in (401, 403, 429, 500, 502, 503):
        names.append("Idempotent-Replayed")
    return {n: {"$ref": f"#/components/headers/{n}"} for n in names}


def error_codes(route: Route) -> dict[int, tuple[str, ...]]:
    """Every error status of the route and the codes it may carry."""
    found: dict[int, list[str]] = {s: list(c) for s, c in ALWAYS.items()}
    for status, codes in route.errors.items():
        found.setdefault(status, [])
        found[status] += [c for c in codes if c not in found[status]]
    if route.idempotent:
        found.setdefault(409, [])
        found[409] += [c for c in IDEMPOTENT_409 if c not in found[409]]
        found.setdefault(422, [])
        if "VALIDATION" not in found[422]:
            found[422].append("VALIDATION")
    return {s: tuple(c) for s, c in sorted(found.items())}


def _error_response(route: Route, status: int, codes: tuple[str, ...]) -> dict[str, Any]:
    listed = ", ".join(f"`{c}`" for c in codes)
    description = route.notes.get(status) or WHEN.get(status, "")
    schema = {"allOf": [_ref(rs.ErrorEnvelope),
                        {"properties": {"error": {"properties": {"code": {"enum": list(codes)}}}}}]}
    return {"description": f"{listed}. {description}".strip(), "headers": _headers(route, status),
            "content": {"application/json": {"schema": schema}}}


def operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "tags": [route.tag],
        "summary": route.summary,
        "description": route.description + (f"\n\nScope: `{route.scope}`." if route.scope else
                                             "\n\nAny valid key; no scope needed."),
        "x-scope": route.scope,
        "security": [{"bearerAuth": []}],
    }
    params = [_param(p) for p in route.params]
    if route.idempotent:
        params.append({"$ref": "#/components/parameters/IdempotencyKey"})
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": route.body_required,
                             "content": {"application/json": {"schema": _ref(route.body)}}}
        if not route.body_required:
            op["requestBody"]["description"] = "Every field is optional; an empty body means `{}`."
    responses: dict[str, Any] = {}
    for success in route.success:
        responses[str(success.status)] = {"description": success.description,
                                          "headers": _headers(route, success.status),
                                          "content": {"application/json": {"schema": _ref(success.model)}}}
    for status, codes in error_codes(route).items():
        responses[str(status)] = _error_response(route, status, codes)
    op["responses"] = responses
    return op


def build() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Layers partner API: publishing", "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "https://api.layers.com", "description": "Production"},
                    {"url": "http://127.0.0.1:3000", "description": "Local stack (`make run`)"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": t} for t in dict.fromkeys(r.tag for r in ROUTES)],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "lp_<live|test>_<keyId>_<secret>"}},
            "parameters": {"IdempotencyKey": {
                "name": "Idempotency-Key", "in": "header", "required": False,
                "description": "Replay protection for this write (24 h); a UUID is recommended.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
            }},
            "headers": {name: dict(spec) for name, spec in HEADERS.items()},
            "schemas": component_schemas(),
        },
    }
