"""What the local stack runs beside the API in place of AWS's own machinery:
a loop that ticks on a daemon thread, and an SQS event source mapping that
hands queue messages to a function as Lambda would (one batch event; what the
handler does not report as failed is deleted, the rest comes back after the
visibility timeout)."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from local import aws_world

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Any]


class Loop:
    def __init__(self, name: str, tick_seconds: float, workers: int):
        self.name = name
        self.tick_seconds = tick_seconds
        self.workers = workers
        self._stopping = threading.Event()
        self._workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._thread = threading.Thread(target=self._run, name=f"{name}-loop", daemon=True)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        self._workers.shutdown(wait=True, cancel_futures=True)

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._workers.submit(fn, *args)

    def tick(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("%s loop tick failed", self.name)
            self._stopping.wait(self.tick_seconds)


class SqsSource:
    """Lambda's SQS event source mapping, with ReportBatchItemFailures.

    Like the mapping, it receives a batch only when a worker can take it:
    a message received is invisible for the visibility timeout, and one that
    waited in a backlog longer than that would be handed out again while its
    first copy still waits (with 2,000 posts due at once, most of them were)."""

    def __init__(self, queue_url: str, handler: Handler, loop: Loop):
        self.queue_url = queue_url
        self.handler = handler
        self.loop = loop
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        """Batches received and not yet handled."""
        return self._in_flight

    def drain(self, max_batches: int) -> None:
        from layers_shared import aws

        sqs = aws.client("sqs")
        for _ in range(max_batches):
            with self._lock:
                if self._in_flight >= self.loop.workers:
                    return
                self._in_flight += 1
            try:
                messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                               AttributeNames=["All"]).get("Messages") or []
            except Exception:
                self._done()
                raise
            if not messages:
                self._done()
                return
            self.loop.submit(self._deliver, messages)

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        try:
            self._handle(messages)
        finally:
            self._done()

    def _handle(self, messages: list[dict[str, Any]]) -> None:
        from layers_shared import aws

        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": m.get("Attributes", {}), "messageAttributes": {},
                              "eventSource": "aws:sqs", "awsRegion": aws_world.REGION} for m in messages]}
        try:
            result = self.handler(event)
        except Exception:
            log.exception("%s: the batch failed; its messages come back after the visibility timeout", self.loop.name)
            return
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages) if m["MessageId"] not in failed]
        if done:
            aws.client("sqs").delete_message_batch(QueueUrl=self.queue_url, Entries=done)
