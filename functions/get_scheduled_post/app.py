"""GET /v1/scheduled-posts/{scheduledPostId}"""
from layers_shared import settings, views
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/scheduled-posts/{scheduledPostId}", scope="publish:read")


@endpoint.handle
def get_scheduled_post(req: Request) -> Response:
    # The use case loads on the first request past auth (ADR 0006).
    from layers_shared.services import queries
    from layers_shared.store.posts import DynamoPosts

    query = queries.ById(req.principal.organization_id, req.path_id("scheduledPostId", "sp"),
                         req.path["scheduledPostId"])
    post = queries.get_scheduled_post(DynamoPosts(req.table), query)
    return Response(200, views.scheduled_post(post))


handler = endpoint.lambda_handler
