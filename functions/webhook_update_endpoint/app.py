"""PATCH /v1/webhook-endpoints/{endpointId}"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("PATCH", "/v1/webhook-endpoints/{endpointId}", scope="webhooks:write", idempotent=True)


@endpoint.handle
def update(req: Request) -> Response:
    from layers_shared.http import webhook_routes  # the use case loads on the first request past auth (ADR 0006)

    return webhook_routes.update(req)


handler = endpoint.lambda_handler
