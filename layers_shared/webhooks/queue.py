"""The delivery queue: one message per planned attempt of a delivery.

SQS delays stop at 15 minutes; a message due later carries its `due` time and
is re-sent in hops of at most 15 minutes until it is (docs/adr/0070)."""
from __future__ import annotations

import json
import os
from typing import Any

from layers_shared import aws

MAX_DELAY = 900
QUEUE_ENV = "WEBHOOK_QUEUE_URL"


def message(delivery_id: str, attempt: int, due: float) -> dict[str, Any]:
    return {"deliveryId": delivery_id, "attempt": attempt, "due": round(due, 3)}


def send(messages: list[tuple[dict[str, Any], float]]) -> None:
    """(body, delay seconds) pairs; batches of ten."""
    sqs = aws.client("sqs")
    url = os.environ[QUEUE_ENV]
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        entries = [{"Id": str(i), "MessageBody": json.dumps(body, separators=(",", ":")),
                    "DelaySeconds": int(max(0, min(MAX_DELAY, round(delay))))}
                   for i, (body, delay) in enumerate(chunk)]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"{len(answer['Failed'])} delivery messages were not queued")
