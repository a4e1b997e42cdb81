"""POST /v1/content/{containerId}/notify-device"""
from layers_shared import settings
from layers_shared.http.api import Endpoint, Request, Response

SETTINGS = settings.load()  # cold start: refuses to run without its configuration
endpoint = Endpoint("POST", "/v1/content/{containerId}/notify-device", scope="publish:write", idempotent=True,
                    optional_body=True)


@endpoint.handle
def notify_device(req: Request) -> Response:
    # The use case loads on the first request past auth (ADR 0006).
    from layers_shared.domain import handoff
    from layers_shared.instructions import writer_from_env
    from layers_shared.messaging import select
    from layers_shared.services import notify, queries
    from layers_shared.store.accounts import DynamoAccounts
    from layers_shared.store.containers import DynamoContainers
    from layers_shared.store.send_records import DynamoSendRecords
    from layers_shared.store.users import DynamoUsers

    phone = notify.parse_body(req.json_body())
    principal = req.principal
    command = notify.NotifyDevice(
        queries.ById(principal.organization_id, req.path_id("containerId", "cnt"), req.path["containerId"]),
        phone, principal.key_id, principal.owner_user_id,
        handoff.request_scope(principal.key_id, req.headers.get("idempotency-key"), req.request_id))

    def messenger(container_id: str, to: str) -> select.Messenger | None:
        return select.messenger_for(principal, req.table, container_id=container_id, phone=to)

    ports = notify.Ports(DynamoContainers(req.table), DynamoUsers(req.table), DynamoAccounts(req.table),
                         DynamoSendRecords(req.table), writer_from_env(), messenger)
    return answer(notify.notify_device(ports, command))


def answer(sent) -> Response:
    from layers_shared.domain.phone import last4

    return Response(200, {"containerId": sent.container_id, "deliveryStatus": "sent",
                          "phoneNumberLast4": last4(sent.phone), "providerChatId": sent.chat_id,
                          "mediaCount": sent.media_count})


handler = endpoint.lambda_handler
