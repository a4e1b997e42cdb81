"""The publish queue port: SQS in AWS (and in moto locally), a list in tests.

Messages are small JSON documents (see `messages`); a delay postpones
delivery (SQS DelaySeconds, at most 900 s) so that waiting for a platform
never happens inside an invocation.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Iterable, Protocol

from layers_shared import aws
from layers_shared.publisher.settings import MAX_SQS_DELAY


@dataclass(frozen=True)
class Outgoing:
    body: dict[str, Any]
    delay: float = 0.0


class Queue(Protocol):
    def send(self, messages: Iterable[Outgoing]) -> None: ...


class SqsQueue:
    BATCH = 10  # SendMessageBatch limit

    def __init__(self, url: str | None = None):
        self.url = url or os.environ.get("PUBLISH_QUEUE_URL", "")

    def send(self, messages: Iterable[Outgoing]) -> None:
        pending = list(messages)
        if not pending:
            return
        if not self.url:
            raise RuntimeError("PUBLISH_QUEUE_URL is not configured")
        sqs = aws.client("sqs")
        for start in range(0, len(pending), self.BATCH):
            chunk = pending[start:start + self.BATCH]
            entries = [{"Id": str(i), "MessageBody": json.dumps(m.body, separators=(",", ":")),
                        "DelaySeconds": delay_seconds(m.delay)} for i, m in enumerate(chunk)]
            answer = sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            failed = answer.get("Failed") or []
            if failed:
                # Retry the failed entries once one by one; a message still not sent
                # is caught by the sweeper (the table is the truth).
                for entry in failed:
                    original = entries[int(entry["Id"])]
                    sqs.send_message(QueueUrl=self.url, MessageBody=original["MessageBody"],
                                     DelaySeconds=original["DelaySeconds"])


def delay_seconds(delay: float) -> int:
    return max(0, min(MAX_SQS_DELAY, int(math.ceil(delay))))


class InMemoryQueue:
    """Collects what would be sent (unit tests, the fault campaign)."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, messages: Iterable[Outgoing]) -> None:
        self.sent.extend(messages)

    def take(self) -> list[Outgoing]:
        taken, self.sent = self.sent, []
        return taken
