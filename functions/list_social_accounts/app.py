"""GET /v1/projects/{projectId}/social-accounts — filters platform, status; cursor pages."""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.LIST_CURSORS)  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/projects/{projectId}/social-accounts", scope="social:read")


@endpoint.handle
def list_social_accounts(req: Request) -> Response:
    # The use case loads on the first request past auth (ADR 0006).
    from layers_shared.services import accounts
    from layers_shared.store.accounts import DynamoAccounts
    from layers_shared.store.containers import DynamoProjects

    raw, project_id = req.path["projectId"], req.path_id("projectId", "prj")
    # The query is checked before the project is looked up: a bad query is a 422 even for a missing project.
    command = accounts.ListAccounts(req.principal.organization_id, project_id, raw,
                                    accounts.parse_query(req.query, project_id or raw))
    listing = accounts.list_accounts(DynamoAccounts(req.table), DynamoProjects(req.table), command)
    return Response(200, {"items": [accounts.account_view(a, listing.layers) for a in listing.accounts],
                          "nextCursor": listing.next_cursor})


handler = endpoint.lambda_handler
