"""One API endpoint per Lambda: auth -> scope -> rate limit -> idempotency ->
the handler -> the response, every error in the documented envelope.

A function module reads like a table of contents:

    endpoint = Endpoint("POST", "/v1/content/{containerId}/schedule",
                        scope="publish:write", idempotent=True)

    @endpoint.handle
    def schedule(req: Request) -> Response: ...

    handler = endpoint.lambda_handler
"""
from __future__ import annotations

import base64
import gc
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aws_lambda_powertools import Logger

from layers_shared import auth, errors, ids, idempotency, ratelimit
from layers_shared.domain.errors import DomainError
from layers_shared.domain.ports import Remember, Reservation
from layers_shared.http import validation
from layers_shared.http.errors import to_api_error
from layers_shared.store.ratelimit import DynamoRateCounters
from layers_shared.store.table import Table, fault_kind

logger = Logger(service="layers-publishing")

READ = "read-light"
WRITE = "write-light"


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    route: str
    path: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_body: str | None
    request_id: str
    principal: auth.Principal
    table: Table
    optional_body: bool = False
    reservation: Reservation | None = None
    dry_run: bool = False
    _json: Any = None

    def json_body(self) -> dict[str, Any]:
        if self._json is None:
            self._json = validation.parse_json(self.raw_body, empty_is_object=self.optional_body)
        return self._json

    def path_id(self, name: str, prefix: str) -> str | None:
        """The path parameter as `<prefix>_<uuid>`, or None when it cannot be one."""
        return ids.normalize_path_id(self.path.get(name, ""), prefix)

    def query_one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def remembering(self, answer: Callable[[Any], Response]) -> Callable[[Any], Remember] | None:
        """With an Idempotency-Key: how a use case keeps this request's answer
        (`answer` to its result) in the same all-or-nothing write as its change."""
        reservation = self.reservation
        if reservation is None:
            return None

        def remember(result: Any) -> Remember:
            given = answer(result)
            return Remember(reservation, idempotency.StoredResponse(given.status, given.body, given.headers))

        return remember


Handler = Callable[[Request], Response]


class Endpoint:
    def __init__(self, method: str, path: str, *, scope: str | None, idempotent: bool = False,
                 optional_body: bool = False, table: Table | None = None, dry_run_param: str | None = None,
                 reveal: Callable[[Any], Any] | None = None):
        self.method = method.upper()
        self.path = path
        self.scope = scope
        self.idempotent = idempotent
        self.optional_body = optional_body
        # `?<dry_run_param>=true` runs every check and writes nothing: it reserves
        # no Idempotency-Key and is counted as a read (decisions.md).
        self.dry_run_param = dry_run_param
        self.endpoint_class = READ if self.method == "GET" else WRITE
        # Turns a stored answer back into the one first given (an Idempotency-Key
        # record keeps a webhook signing secret encrypted, never in plain text).
        self.reveal = reveal
        self._table = table
        self._fn: Handler | None = None

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = Table()
        return self._table

    def handle(self, fn: Handler) -> Handler:
        self._fn = fn
        return fn

    def lambda_handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """API Gateway (REST, proxy integration) event -> proxy response.

        API Gateway has already routed the request to this function (one route
        per function), so no in-process router is loaded: it would only add
        cold-start time."""
        if not _init_done:
            _end_of_init()
        if (event.get("httpMethod") or "").upper() != self.method:
            request_id = ids.new_request_id()
            error = errors.ApiError(404, "NOT_FOUND", "No such route.")
            return _render(_error_response(error, request_id), request_id)
        path_params = {k: v for k, v in (event.get("pathParameters") or {}).items() if isinstance(v, str)}
        return self._route(event, path_params)

    # -- pipeline ---------------------------------------------------------------------

    def _route(self, event: dict[str, Any], path_params: dict[str, str]) -> dict[str, Any]:
        started = time.perf_counter()
        request_id = ids.new_request_id()
        logger.append_keys(request_id=request_id)
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items() if isinstance(v, str)}
        # The class is fixed per route, so even a 401/403 (not counted) can name it.
        extra_headers: dict[str, str] = {"X-RateLimit-Endpoint-Class": self.endpoint_class}
        reservation: Reservation | None = None
        try:
            principal = auth.authenticate(headers, self.table)
            logger.append_keys(api_key_id=principal.key_id, organization_id=principal.organization_id)
            auth.require_scope(principal, self.scope)
            query = _multi_query(event)
            dry_run = self._dry_run(query)
            endpoint_class = READ if dry_run else self.endpoint_class
            extra_headers["X-RateLimit-Endpoint-Class"] = endpoint_class
            budget = ratelimit.consume(DynamoRateCounters(self.table), organization_id=principal.organization_id,
                                       env=principal.env, tier=principal.tier,
                                       endpoint_class=endpoint_class)
            extra_headers.update(budget.headers())
            request = Request(
                method=self.method, route=self.path, path=dict(path_params),
                query=query, headers=headers, raw_body=_body_text(event),
                request_id=request_id, principal=principal, table=self.table, optional_body=self.optional_body,
                dry_run=dry_run,
            )
            key = idempotency.validate_key(headers.get("idempotency-key")) if self.idempotent else None
            if key is not None and not dry_run:
                from layers_shared.store.idempotency import DynamoIdempotencyRecords  # only with a key

                outcome = DynamoIdempotencyRecords(self.table).reserve(
                    f"{principal.key_id}#{self.method} {self.path}#{key}",
                    idempotency.fingerprint(request.path, _fingerprint_body(request)))
                if isinstance(outcome, idempotency.StoredResponse):
                    body = self.reveal(outcome.body) if self.reveal else outcome.body
                    replay = Response(outcome.status, body,
                                      {**outcome.headers, "Idempotent-Replayed": "true"})
                    return self._finish(replay, request_id, extra_headers, started)
                reservation = request.reservation = outcome
            response = self._call(request)
            if reservation is not None:
                if idempotency.is_storable(response.status, response.body):
                    reservation.complete(idempotency.StoredResponse(response.status, response.body, response.headers))
                else:
                    reservation.abandon()
            return self._finish(response, request_id, extra_headers, started)
        except (errors.ApiError, DomainError) as raised:
            error = raised if isinstance(raised, errors.ApiError) else to_api_error(raised)
            extra_headers.update(error.headers)
            return self._finish(_error_response(error, request_id), request_id, extra_headers, started)
        except Exception as exc:
            error = _storage_error(exc)
            if error is None:
                logger.exception("unhandled error")
            else:
                logger.warning("storage unavailable: %s", type(exc).__name__)
                extra_headers.update(error.headers)
            if reservation is not None:
                reservation.abandon()  # only while in progress: a commit whose answer was lost stays
            error = error or errors.internal()
            return self._finish(_error_response(error, request_id), request_id, extra_headers, started)

    def _dry_run(self, query: dict[str, list[str]]) -> bool:
        if self.dry_run_param is None or self.dry_run_param not in query:
            return False
        value = (query[self.dry_run_param] or [""])[-1]
        if value not in ("true", "false"):
            raise errors.validation([errors.issue(self.dry_run_param, "invalid_type", "must be true or false")])
        return value == "true"

    def _call(self, request: Request) -> Response:
        assert self._fn is not None, "Endpoint has no handler"
        try:
            return self._fn(request)
        except (errors.ApiError, DomainError) as raised:
            error = raised if isinstance(raised, errors.ApiError) else to_api_error(raised)
            response = _error_response(error, request.request_id)
            response.headers.update(error.headers)
            return response

    def _finish(self, response: Response, request_id: str, extra: dict[str, str], started: float) -> dict[str, Any]:
        response.headers = {**response.headers, **extra}
        logger.info("request", extra={"method": self.method, "route": self.path, "status": response.status,
                                      "ms": round((time.perf_counter() - started) * 1000, 1)})
        return _render(response, request_id)


_init_done = False


def _end_of_init() -> None:
    """Once, on the first request: what the init built (modules, settings, the
    endpoint) lives as long as the execution environment, so it is moved out
    of the cyclic collector's way. Otherwise the collections that building the
    first boto3 client triggers scan it again and again: about 30 ms of CPU on
    a cold first answer (docs/adr/0006-cold-start.md)."""
    global _init_done
    _init_done = True
    gc.freeze()


def _storage_error(exc: Exception) -> errors.ApiError | None:
    """Throttling and lost answers from DynamoDB are 503s a partner may retry."""
    kind = fault_kind(exc)
    if kind == "busy":
        return errors.unavailable("THROTTLED", "The service is busy; nothing was changed. Retry shortly.")
    if kind == "unknown":
        return errors.unavailable("OUTCOME_UNKNOWN", "The service did not confirm the change; retry with the "
                                  "same Idempotency-Key to get its outcome.")
    return None


def _error_response(error: errors.ApiError, request_id: str) -> Response:
    return Response(error.status, error.body(request_id), {})


def _render(response: Response, request_id: str) -> dict[str, Any]:
    headers = {**response.headers, "Content-Type": "application/json", "X-Request-Id": request_id}
    return {"statusCode": response.status, "headers": headers, "isBase64Encoded": False,
            "body": json.dumps(response.body, separators=(",", ":"), ensure_ascii=False)}


def _multi_query(event: dict[str, Any]) -> dict[str, list[str]]:
    multi = event.get("multiValueQueryStringParameters") or {}
    if multi:
        return {k: list(v) for k, v in multi.items() if v is not None}
    single = event.get("queryStringParameters") or {}
    return {k: [v] for k, v in single.items() if v is not None}


def _body_text(event: dict[str, Any]) -> str | None:
    body = event.get("body")
    if body is None:
        return None
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return "\x00invalid"
    return body


def _fingerprint_body(request: Request) -> Any:
    try:
        return validation.parse_json(request.raw_body, empty_is_object=request.optional_body)
    except errors.ApiError:
        return {"raw": request.raw_body}
