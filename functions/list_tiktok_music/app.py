"""GET /v1/tiktok-music — the catalog, most used first."""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("GET", "/v1/tiktok-music", scope="publish:read")


@endpoint.handle
def list_tiktok_music(req: Request) -> Response:
    # The use case loads on the first request past auth (ADR 0006).
    from layers_shared import views
    from layers_shared.services import music
    from layers_shared.store.music import DynamoMusicCatalog

    tracks = music.list_music(DynamoMusicCatalog(req.table))
    return Response(200, {"tracks": [views.music_track(t) for t in tracks], "total": len(tracks)})


handler = endpoint.lambda_handler
