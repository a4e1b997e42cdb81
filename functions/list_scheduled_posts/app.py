"""GET /v1/projects/{projectId}/scheduled-posts"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.LIST_CURSORS)  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/projects/{projectId}/scheduled-posts", scope="publish:read")


@endpoint.handle
def list_scheduled_posts(req: Request) -> Response:
    from layers_shared.services import posts  # the use case loads on the first request past auth (ADR 0006)

    return posts.list_posts(req)


handler = endpoint.lambda_handler
