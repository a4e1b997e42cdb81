"""DELETE /v1/scheduled-posts/{scheduledPostId}"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("DELETE", "/v1/scheduled-posts/{scheduledPostId}", scope="publish:write",
                    idempotent=True, optional_body=True)


@endpoint.handle
def cancel(req: Request) -> Response:
    # The use case loads on the first request past auth (ADR 0006).
    from layers_shared import clock
    from layers_shared.services import posts, queries
    from layers_shared.store.posts import DynamoPosts

    reason = posts.parse_cancel_body(req.json_body())
    post = queries.ById(req.principal.organization_id, req.path_id("scheduledPostId", "sp"),
                        req.path["scheduledPostId"])
    done = posts.cancel(DynamoPosts(req.table), posts.Cancel(post, reason), clock.now(), req.remembering(_answer))
    return _answer(done)


def _answer(done) -> Response:
    from layers_shared.clock import to_wire

    return Response(200, {"id": done.post_id, "status": done.status, "canceledAt": to_wire(done.at)})


handler = endpoint.lambda_handler
