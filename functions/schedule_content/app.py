"""POST /v1/content/{containerId}/schedule"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load(*settings.SLOT_TRIGGER, *settings.CREATOR_INFO_READER)  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/content/{containerId}/schedule", scope="publish:write", idempotent=True,
                    dry_run_param="dryRun")


@endpoint.handle
def schedule(req: Request) -> Response:
    from layers_shared.http import schedule_routes  # the use case loads on the first request past auth (ADR 0006)

    return schedule_routes.handle(req, publish_now=False)


handler = endpoint.lambda_handler
