"""The local stack's stand-in for the two event source mappings of webhooks:
the table's stream -> the fan-out function, and the delivery queue -> the
delivery function (the same handlers Lambda runs, with the same events).

At startup it turns the table's stream on (NEW_IMAGE, as template.yaml
declares it), creates the delivery queue, its DLQ and the signing-secret key
in moto. A daemon thread then, every 0.1 s, reads new stream records, keeps
the inserted `EVT` items (the mapping's filter) and hands them to the fan-out
in one batch, and drains the delivery queue (moto honours `DelaySeconds`).
Deliveries leave over real HTTP: the first attempt well within 5 s.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local import aws_world, events, routes, server

log = logging.getLogger(__name__)

TICK = 0.1
FANOUT = ("functions/webhook_fanout/", "app.handler")
DELIVERY = ("functions/webhook_delivery/", "app.handler")


def matches_filter(record: dict[str, Any]) -> bool:
    """The FilterCriteria of WebhookOutboxEvents in template.yaml."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") == "INSERT" and image.get("type") == {"S": "EVT"}


class WebhookLoop:
    def __init__(self, stack: server.Stack):
        self.stack = stack
        self._stopping = threading.Event()
        self._workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook-delivery")
        self._thread = threading.Thread(target=self._run, name="webhook-loop", daemon=True)
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
        sqs = aws.client("sqs")
        dlq = sqs.create_queue(QueueName="layers-webhook-dlq-local")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.queue_url = sqs.create_queue(QueueName="layers-webhook-local", Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        })["QueueUrl"]
        key_id = aws.client("kms").create_key(Description="layers local webhook secrets")["KeyMetadata"]["KeyId"]
        os.environ.update({"WEBHOOK_QUEUE_URL": self.queue_url, "WEBHOOK_KMS_KEY_ID": key_id})
        streams = aws.client("dynamodbstreams")
        self.shard = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        self._workers.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("webhook loop tick failed")
            self._stopping.wait(TICK)

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
        from layers_shared import aws

        sqs = aws.client("sqs")
        for _ in range(max_batches):
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           AttributeNames=["All"]).get("Messages") or []
            if not messages:
                return
            self._workers.submit(self._deliver, messages)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        from layers_shared import aws

        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": m.get("Attributes", {}), "messageAttributes": {},
                              "eventSource": "aws:sqs", "awsRegion": aws_world.REGION} for m in messages]}
        try:
            result = routes.load_handler(*DELIVERY)(event, events.LambdaContext("layers-webhook-delivery-local"))
        except Exception:
            log.exception("webhook delivery raised; the messages come back after the visibility timeout")
            return
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages) if m["MessageId"] not in failed]
        if done:
            aws.client("sqs").delete_message_batch(QueueUrl=self.queue_url, Entries=done)


@server.on_startup
def _start(stack: server.Stack) -> None:
    loop = WebhookLoop(stack)
    loop.install()
    stack.background.append(loop)
    stack.webhook_loop = loop  # type: ignore[attr-defined]
