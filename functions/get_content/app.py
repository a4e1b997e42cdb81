"""GET /v1/content/{containerId}"""
from layers_shared import settings, views
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/content/{containerId}", scope="content:read")


@endpoint.handle
def get_content(req: Request) -> Response:
    from layers_shared.store import repo  # the use case loads on the first request past auth (ADR 0006)

    container = repo.container_in_path(req)
    return Response(200, views.container(container))


handler = endpoint.lambda_handler
