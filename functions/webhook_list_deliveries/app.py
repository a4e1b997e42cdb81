"""GET /v1/webhook-endpoints/{endpointId}/deliveries"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.LIST_CURSORS)  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/webhook-endpoints/{endpointId}/deliveries", scope="webhooks:read")


@endpoint.handle
def deliveries(req: Request) -> Response:
    from layers_shared.http import webhook_routes  # the use case loads on the first request past auth (ADR 0006)

    return webhook_routes.deliveries(req)


handler = endpoint.lambda_handler
