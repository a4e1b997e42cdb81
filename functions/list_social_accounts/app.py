"""GET /v1/projects/{projectId}/social-accounts — filters platform, status; cursor pages."""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.LIST_CURSORS)  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/projects/{projectId}/social-accounts", scope="social:read")


@endpoint.handle
def list_social_accounts(req: Request) -> Response:
    from layers_shared.services import accounts  # the use case loads on the first request past auth (ADR 0006)

    return accounts.list_accounts(req)


handler = endpoint.lambda_handler
