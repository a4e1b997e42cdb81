"""GET /v1/content/{containerId}"""
from layers_shared import settings, views
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/content/{containerId}", scope="content:read")


@endpoint.handle
def get_content(req: Request) -> Response:
    # The use case loads on the first request past auth (ADR 0006).
    from layers_shared.services import queries
    from layers_shared.store.containers import DynamoContainers

    query = queries.ById(req.principal.organization_id, req.path_id("containerId", "cnt"), req.path["containerId"])
    container = queries.get_content(DynamoContainers(req.table), query)
    return Response(200, views.container(container))


handler = endpoint.lambda_handler
