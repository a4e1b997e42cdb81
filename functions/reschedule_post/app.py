"""POST /v1/scheduled-posts/{scheduledPostId}/reschedule"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.SLOT_TRIGGER)  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/scheduled-posts/{scheduledPostId}/reschedule", scope="publish:write",
                    idempotent=True)


@endpoint.handle
def reschedule(req: Request) -> Response:
    # The use case loads on the first request past auth (ADR 0006).
    from layers_shared import clock
    from layers_shared.services import posts, queries
    from layers_shared.store.posts import DynamoPosts

    now = clock.now()
    when = posts.parse_reschedule_body(req.json_body(), now)
    post = queries.ById(req.principal.organization_id, req.path_id("scheduledPostId", "sp"),
                        req.path["scheduledPostId"])
    done = posts.reschedule(DynamoPosts(req.table), posts.Reschedule(post, when), now, req.remembering(_answer))
    return _answer(done)


def _answer(done) -> Response:
    from layers_shared.clock import to_wire

    return Response(200, {"id": done.post_id, "status": done.status, "scheduledFor": to_wire(done.scheduled_for),
                          "updatedAt": to_wire(done.at)})


handler = endpoint.lambda_handler
