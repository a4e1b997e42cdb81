"""POST /v1/content/{containerId}/reject — body {reason}; drops a stashed schedule."""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/content/{containerId}/reject", scope="content:approve", idempotent=True)


@endpoint.handle
def reject(req: Request) -> Response:
    from layers_shared.http import approval_routes  # the use case loads on the first request past auth (ADR 0006)

    return approval_routes.reject(req)


handler = endpoint.lambda_handler
