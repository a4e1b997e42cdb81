"""POST /v1/scheduled-posts/{scheduledPostId}/reschedule"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.SLOT_TRIGGER)  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/scheduled-posts/{scheduledPostId}/reschedule", scope="publish:write",
                    idempotent=True)


@endpoint.handle
def reschedule(req: Request) -> Response:
    from layers_shared.services import posts  # the use case loads on the first request past auth (ADR 0006)

    return posts.reschedule(req)


handler = endpoint.lambda_handler
