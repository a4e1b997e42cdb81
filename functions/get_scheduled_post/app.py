"""GET /v1/scheduled-posts/{scheduledPostId}"""
from layers_shared import settings, views
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/scheduled-posts/{scheduledPostId}", scope="publish:read")


@endpoint.handle
def get_scheduled_post(req: Request) -> Response:
    from layers_shared.store import repo  # the use case loads on the first request past auth (ADR 0006)

    post = repo.scheduled_post_in_path(req)
    return Response(200, views.scheduled_post(post))


handler = endpoint.lambda_handler
