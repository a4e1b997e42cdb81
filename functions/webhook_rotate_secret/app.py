"""POST /v1/webhook-endpoints/{endpointId}/rotate-secret"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.WEBHOOK_SECRETS)  # cold start: refuses to run without its configuration


def reveal_secret(body):  # a replayed answer's secret, decrypted
    from layers_shared.http import webhook_routes  # the use case loads on the first request past auth (ADR 0006)

    return webhook_routes.reveal_secret(body)


endpoint = Endpoint("POST", "/v1/webhook-endpoints/{endpointId}/rotate-secret", scope="webhooks:write",
                    idempotent=True, optional_body=True, reveal=reveal_secret)


@endpoint.handle
def rotate(req: Request) -> Response:
    from layers_shared.http import webhook_routes  # the use case loads on the first request past auth (ADR 0006)

    return webhook_routes.rotate(req)


handler = endpoint.lambda_handler
