"""POST /v1/webhook-endpoints/{endpointId}/rotate-secret"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response
from layers_shared.webhooks import service

SETTINGS = settings.load(*settings.WEBHOOK_SECRETS)  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/webhook-endpoints/{endpointId}/rotate-secret", scope="webhooks:write",
                    idempotent=True, optional_body=True, reveal=service.reveal_secret)


@endpoint.handle
def rotate(req: Request) -> Response:
    return service.rotate(req)


handler = endpoint.lambda_handler
