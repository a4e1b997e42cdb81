"""GET /v1/tiktok-music — the catalog, most used first."""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/tiktok-music", scope="publish:read")


@endpoint.handle
def list_tiktok_music(req: Request) -> Response:
    from layers_shared.services import music  # the use case loads on the first request past auth (ADR 0006)

    return music.list_music(req)


handler = endpoint.lambda_handler
