"""DELETE /v1/scheduled-posts/{scheduledPostId}"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("DELETE", "/v1/scheduled-posts/{scheduledPostId}", scope="publish:write",
                    idempotent=True, optional_body=True)


@endpoint.handle
def cancel(req: Request) -> Response:
    from layers_shared.services import posts  # the use case loads on the first request past auth (ADR 0006)

    return posts.cancel(req)


handler = endpoint.lambda_handler
