"""The local stack's stand-in for the two event source mappings of webhooks:
the table's stream -> the fan-out function, and the delivery queue -> the
delivery function (the same handlers Lambda runs, with the same events).

At startup it finds the table's stream (turning it on, NEW_IMAGE as
template.yaml declares it, when the world was made without it), and takes
the delivery queue aws_world made from the template. A daemon thread then,
every 0.1 s, reads new stream records, keeps the inserted `EVT` items (the
mapping's filter) and hands them to the fan-out in one batch, and drains the
delivery queue (moto honours `DelaySeconds`).
Deliveries leave over real HTTP: the first attempt well within 5 s.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from local import background, events, routes, server

log = logging.getLogger(__name__)

TICK = 0.1
FANOUT = ("functions/webhook_fanout/", "app.handler")
DELIVERY = ("functions/webhook_delivery/", "app.handler")


def matches_filter(record: dict[str, Any]) -> bool:
    """The FilterCriteria of WebhookOutboxEvents in template.yaml."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") == "INSERT" and image.get("type") == {"S": "EVT"}


class WebhookLoop(background.Loop):
    def __init__(self, stack: server.Stack):
        super().__init__("webhook", TICK, workers=8)
        self.stack = stack
        self._after: str | None = None  # sequence number of the last record read
        self._pending: list[dict[str, Any]] = []  # records the fan-out reported as failed
        self.fanned_out = 0

    def install(self) -> None:
        from layers_shared import aws

        ddb = aws.client("dynamodb")
        table = os.environ["TABLE_NAME"]
        described = ddb.describe_table(TableName=table)["Table"]
        if not described.get("LatestStreamArn"):
            ddb.update_table(TableName=table,
                             StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
            described = ddb.describe_table(TableName=table)["Table"]
        self.stream_arn = described["LatestStreamArn"]
        # The delivery queue (with its DLQ) and the signing-secret key are the
        # template's, made by aws_world with the rest of the world.
        self.queue_url = os.environ["WEBHOOK_QUEUE_URL"]
        self.queue = background.SqsSource(self.queue_url, self._delivery, self)
        streams = aws.client("dynamodbstreams")
        self.shard = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.start()

    def tick(self) -> None:
        self.read_stream()
        self.drain_queue()

    # -- stream -> fan-out ----------------------------------------------------------

    def read_stream(self) -> None:
        from layers_shared import aws

        streams = aws.client("dynamodbstreams")
        # A fresh iterator each tick, from the last record read: moto replaces a
        # table (and its stream) with a copy when a transaction is canceled, and
        # an iterator kept across that would read the discarded copy forever.
        position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._after}
                    if self._after else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=self.shard,
                                              **position)["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator, Limit=1000).get("Records", [])
        if records:
            self._after = records[-1]["dynamodb"]["SequenceNumber"]
        batch = self._pending + [r for r in records if matches_filter(r)]
        if not batch:
            return
        handler = routes.load_handler(*FANOUT)
        try:
            result = handler({"Records": batch}, events.LambdaContext("layers-webhook-fanout-local"))
            failed = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
        except Exception:
            log.exception("webhook fan-out raised; the batch comes again")
            failed = [batch[0]["dynamodb"]["SequenceNumber"]]
        if failed:  # like the mapping: the failed record and every later one again
            first = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] == failed[0])
            self._pending = batch[first:]
        else:
            self._pending = []
        self.fanned_out += len(batch) - len(self._pending)

    # -- queue -> delivery ----------------------------------------------------------

    def drain_queue(self, max_batches: int = 20) -> None:
        self.queue.drain(max_batches)

    def _delivery(self, event: dict[str, Any]) -> Any:
        return routes.load_handler(*DELIVERY)(event, events.LambdaContext("layers-webhook-delivery-local"))


@server.on_startup
def _start(stack: server.Stack) -> None:
    loop = WebhookLoop(stack)
    loop.install()
    stack.background.append(loop)
    stack.webhook_loop = loop  # type: ignore[attr-defined]
