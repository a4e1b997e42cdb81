"""POST /v1/webhook-endpoints"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response
from layers_shared.webhooks import service

SETTINGS = settings.load(*settings.WEBHOOK_SECRETS)  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/webhook-endpoints", scope="webhooks:write", idempotent=True,
                    reveal=service.reveal_secret)


@endpoint.handle
def create(req: Request) -> Response:
    return service.create(req)


handler = endpoint.lambda_handler
