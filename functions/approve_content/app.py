"""POST /v1/content/{containerId}/approve — body {note?}; promotes a stashed schedule."""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.SLOT_TRIGGER)  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/content/{containerId}/approve", scope="content:approve", idempotent=True,
                    optional_body=True)


@endpoint.handle
def approve(req: Request) -> Response:
    from layers_shared.http import approval_routes  # the use case loads on the first request past auth (ADR 0006)

    return approval_routes.approve(req)


handler = endpoint.lambda_handler
