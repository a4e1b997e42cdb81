"""The delivery queue: one attempt per message (webhooks.md, Delivery).
A message that raises is reported as a partial batch failure and comes back
after the visibility timeout; the rest of the batch is deleted."""
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger

from layers_shared import settings
from layers_shared.store.table import Table
from layers_shared.store.webhook_deliveries import DynamoWebhookDeliveries
from layers_shared.store.webhook_endpoints import DynamoWebhookEndpoints
from layers_shared.webhooks import crypto, delivery, queue, transport

SETTINGS = settings.load(*settings.WEBHOOK_DELIVERY)  # cold start: refuses to run without its configuration
logger = Logger(service="layers-webhooks")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = Table()
    ports = delivery.Ports(DynamoWebhookEndpoints(table), DynamoWebhookDeliveries(table), queue, crypto, transport)

    def one(record: dict[str, Any]) -> dict[str, str] | None:
        try:
            body = json.loads(record.get("body") or "{}")
            result = delivery.handle(ports, body if isinstance(body, dict) else {})
            logger.info("delivery attempt", extra={"result": result, "deliveryId": body.get("deliveryId"),
                                                   "attempt": body.get("attempt")})
            return None
        except Exception:
            logger.exception("delivery message failed; SQS will redeliver it",
                             extra={"messageId": record.get("messageId")})
            return {"itemIdentifier": record.get("messageId", "")}

    records = event.get("Records") or []
    # Attempts wait on partners' servers (up to 10 s each): side by side, not one after another.
    with ThreadPoolExecutor(max_workers=max(1, min(len(records), 10))) as pool:
        results = list(pool.map(one, records))
    return {"batchItemFailures": [r for r in results if r is not None]}
