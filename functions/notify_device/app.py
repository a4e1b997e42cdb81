"""POST /v1/content/{containerId}/notify-device"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/content/{containerId}/notify-device", scope="publish:write", idempotent=True,
                    optional_body=True)


@endpoint.handle
def notify_device(req: Request) -> Response:
    from layers_shared.services import notify  # the use case loads on the first request past auth (ADR 0006)

    return notify.notify_device(req)


handler = endpoint.lambda_handler
