"""POST /v1/webhook-endpoints/{endpointId}/test"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/webhook-endpoints/{endpointId}/test", scope="webhooks:write", idempotent=True,
                    optional_body=True)


@endpoint.handle
def test(req: Request) -> Response:
    from layers_shared.http import webhook_routes  # the use case loads on the first request past auth (ADR 0006)

    return webhook_routes.test(req)


handler = endpoint.lambda_handler
