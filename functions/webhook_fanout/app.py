"""The outbox's stream (inserted event items only) -> one delivery per
subscribed active endpoint -> the delivery queue. Partial batch failures:
the failed record and the ones after it come again."""
from typing import Any

from aws_lambda_powertools import Logger

from layers_shared import settings
from layers_shared.store.outbox import stream_changes
from layers_shared.store.table import Table
from layers_shared.store.webhook_deliveries import DynamoWebhookDeliveries
from layers_shared.store.webhook_endpoints import DynamoWebhookEndpoints
from layers_shared.webhooks import fanout, queue

SETTINGS = settings.load(*settings.WEBHOOK_FANOUT)  # cold start: refuses to run without its configuration
logger = Logger(service="layers-webhooks")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = Table()
    ports = fanout.Ports(DynamoWebhookEndpoints(table), DynamoWebhookDeliveries(table), queue)
    failures = fanout.handle(ports, stream_changes(event.get("Records") or []))
    if failures:
        logger.warning("fan-out failed; the stream hands the rest over again", extra={"failed": failures})
    return {"batchItemFailures": failures}
