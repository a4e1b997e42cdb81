"""The HTTP side of the webhook routes (webhooks.md, Routes): the request as a
command on the DynamoDB adapters, the use case's result as the documented
answer. One function per route, called by its function (functions/webhook_*)."""
from __future__ import annotations

from typing import Any

from layers_shared import clock
from layers_shared.http.api import Request, Response
from layers_shared.store.outbox import DynamoWebhookOutbox
from layers_shared.store.table import Table
from layers_shared.store.webhook_deliveries import DynamoWebhookDeliveries
from layers_shared.store.webhook_endpoints import DynamoWebhookEndpoints
from layers_shared.webhooks import crypto, service, views


class _Projects:
    """DynamoProjects on first use: only a create naming a project reads one, and
    only then are the stored-entity models imported (cold start, ADR 0006)."""

    def __init__(self, table: Table):
        self.table = table

    def get(self, project_id: str) -> Any:
        from layers_shared.store.containers import DynamoProjects

        return DynamoProjects(self.table).get(project_id)


def _ports(req: Request) -> service.Ports:
    return service.Ports(DynamoWebhookEndpoints(req.table), DynamoWebhookDeliveries(req.table),
                         DynamoWebhookOutbox(req.table), _Projects(req.table), crypto)


def _caller(req: Request) -> service.Caller:
    return service.Caller(req.principal.organization_id, req.principal.env)


def _endpoint(req: Request) -> Any:
    return service.endpoint_ref(_caller(req), req.path.get("endpointId", ""))


# -- create / list / get / patch / delete --------------------------------------------------

def create(req: Request) -> Response:
    command = service.parse_create(req.json_body(), req.principal.env)
    done = service.create(_ports(req), _caller(req), command, clock.now(), req.remembering(_kept_secret(201)))
    return Response(201, _revealed(done))


def reveal_secret(body: Any) -> Any:
    """A replayed create or rotate: the stored answer keeps the secret encrypted."""
    return service.reveal_secret(crypto, body)


def list_endpoints(req: Request) -> Response:
    command = service.parse_list_endpoints(req.query, req.principal.organization_id)
    listing = service.list_endpoints(_ports(req), command)
    return Response(200, {"items": [views.endpoint(e) for e in listing.endpoints],
                          "nextCursor": listing.next_cursor})


def get(req: Request) -> Response:
    return Response(200, views.endpoint(service.get(_ports(req), _endpoint(req))))


def update(req: Request) -> Response:
    body = req.json_body()
    updated = service.update(_ports(req), _endpoint(req), body, clock.now(), req.remembering(_endpoint_answer))
    return _endpoint_answer(updated)


def delete(req: Request) -> Response:
    deleted = service.delete(_ports(req), _endpoint(req), clock.now(), req.remembering(_deleted_answer))
    return _deleted_answer(deleted)


# -- rotate / test / deliveries / replay ---------------------------------------------------

def rotate(req: Request) -> Response:
    done = service.rotate(_ports(req), _endpoint(req), clock.now(), req.remembering(_kept_secret(200)))
    return Response(200, _revealed(done))


def test(req: Request) -> Response:
    planned = service.test(_ports(req), _endpoint(req), clock.now(), req.remembering(_ping_answer))
    return _ping_answer(planned)


def deliveries(req: Request) -> Response:
    listing = service.list_deliveries(_ports(req), _endpoint(req), req.query)
    return Response(200, {"items": [views.delivery(d) for d in listing.deliveries],
                          "nextCursor": listing.next_cursor})


def replay(req: Request) -> Response:
    done = service.replay(_ports(req), _caller(req), req.path.get("deliveryId", ""), clock.now(),
                          req.remembering(_replay_answer))
    return _replay_answer(done)


# -- answers (and what an Idempotency-Key keeps of them) ------------------------------------

def _revealed(done: service.Revealed) -> dict[str, Any]:
    return {"endpoint": views.endpoint(done.endpoint), "signingSecret": done.secret}


def _kept_secret(status: int) -> Any:
    """The answer an Idempotency-Key keeps: the secret as its ciphertext (reveal_secret undoes it)."""
    def kept(done: service.Revealed) -> Response:
        return Response(status, {"endpoint": views.endpoint(done.endpoint), "signingSecretCiphertext": done.ciphertext})

    return kept


def _endpoint_answer(endpoint: Any) -> Response:
    return Response(200, views.endpoint(endpoint))


def _deleted_answer(endpoint_id: str) -> Response:
    return Response(200, {"id": endpoint_id, "deleted": True})


def _ping_answer(planned: service.Planned) -> Response:
    return Response(202, {"deliveryId": planned.delivery_id, "eventId": planned.event_id})


def _replay_answer(done: service.Replayed) -> Response:
    return Response(200, {"originalDeliveryId": done.original_id, "replayDeliveryId": done.replay_id,
                          "scheduledAt": clock.to_wire(done.at)})
