"""GET /v1/whoami — any valid key, no scope needed."""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/whoami", scope=None)


@endpoint.handle
def whoami(req: Request) -> Response:
    p = req.principal
    return Response(200, {
        "organizationId": p.organization_id,
        "organizationName": p.organization_name,
        "apiKeyId": p.key_id,
        "scopes": list(p.scopes),
        "rateLimitTier": p.tier,
        "mode": p.env,
    })


handler = endpoint.lambda_handler
