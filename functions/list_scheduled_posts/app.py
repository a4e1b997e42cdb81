"""GET /v1/projects/{projectId}/scheduled-posts"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.LIST_CURSORS)  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/projects/{projectId}/scheduled-posts", scope="publish:read")


@endpoint.handle
def list_scheduled_posts(req: Request) -> Response:
    # The use case loads on the first request past auth (ADR 0006).
    from layers_shared import views
    from layers_shared.services import posts
    from layers_shared.store.containers import DynamoProjects
    from layers_shared.store.posts import DynamoPosts

    raw, project_id = req.path["projectId"], req.path_id("projectId", "prj")
    # The query is checked before the project is looked up: a bad query is a 422 even for a missing project.
    command = posts.ListPosts(req.principal.organization_id, project_id, raw,
                              posts.parse_list_query(req.query, project_id or raw))
    listing = posts.list_posts(DynamoPosts(req.table), DynamoProjects(req.table), command)
    return Response(200, {"items": [views.scheduled_post(p) for p in listing.posts],
                          "nextCursor": listing.next_cursor})


handler = endpoint.lambda_handler
