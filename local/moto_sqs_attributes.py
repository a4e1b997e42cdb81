"""moto's SQS reads a single queue setting by building *all* the queue's
attributes, three of which (ApproximateNumberOfMessages, ...Delayed,
...NotVisible) walk every message in the queue. SendMessage does it once per
message (for ContentBasedDeduplication) and ReceiveMessage once per message
handed out (for MessageRetentionPeriod), so with n messages in flight every
send and receive cost O(n) walks: with 2,000 posts due at once (each with
delayed step messages) the local stack spent most of its CPU counting the
queue (docs/benchmarks.md, "Local stack: 2,000 posts due in one second").

This patch has those two paths read the one setting they need; what they
decide is unchanged, and GetQueueAttributes still counts."""
from __future__ import annotations

import threading
from typing import Any

_installed = False
_sending = threading.local()


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.core.utils import unix_time
    from moto.sqs.models import Queue, SQSBackend

    all_attributes = Queue.attributes.fget  # type: ignore[attr-defined]

    def attributes(self: Any) -> dict[str, Any]:
        if getattr(_sending, "active", False):
            # All that sending reads: a FIFO queue's ContentBasedDeduplication.
            return {"ContentBasedDeduplication": str(bool(self.content_based_deduplication)).lower()} \
                if self.fifo_queue else {}
        return all_attributes(self)

    send_message = SQSBackend.send_message

    def send_without_counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return send_message(self, *args, **kwargs)
        finally:
            _sending.active = False

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]
    SQSBackend.send_message = send_without_counting  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period)
    _installed = True
