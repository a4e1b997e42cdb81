"""List prices (us-east-1, on-demand; docs/capacity.md) applied to what the
model counted."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

LAMBDA_GB_SECOND = 0.0000133334   # arm64
LAMBDA_REQUEST = 0.20 / 1e6
SQS_REQUEST = 0.40 / 1e6
KMS_REQUEST = 0.03 / 1e4
SCHEDULER_INVOCATION = 1.00 / 1e6
LOGS_GB = 0.50
LOG_BYTES_PER_MESSAGE = 250       # the handler's warnings and metrics (EMF), on average
LOG_BYTES_PER_INVOCATION = 350    # START / END / REPORT


@dataclass
class Bill:
    calls: Counter
    per_million: dict[str, float]

    @property
    def total_per_million(self) -> float:
        return sum(self.per_million.values())


def bill(r: Any) -> Bill:
    calls: Counter = Counter(r.meter.calls)
    calls.update({k: v for k, v in r.calls.items() if not k.startswith("http:")})
    # The event source's side: one ReceiveMessage and one DeleteMessageBatch per batch.
    calls["ReceiveMessage"] += r.invocations
    calls["DeleteMessageBatch"] += r.invocations
    calls["Lambda invocations"] = r.invocations
    slots = r.extra.get("slots", 1)
    per_post = 1e6 / r.posts
    sqs = calls["SendMessageBatch"] + calls["ReceiveMessage"] + calls["DeleteMessageBatch"]
    logs = (r.messages * LOG_BYTES_PER_MESSAGE + r.invocations * LOG_BYTES_PER_INVOCATION) / 1e9 * LOGS_GB
    per_million = {
        "DynamoDB": r.meter.dollars() * per_post,
        "Lambda": (r.gb_seconds * LAMBDA_GB_SECOND + r.invocations * LAMBDA_REQUEST) * per_post,
        "SQS": sqs * SQS_REQUEST * per_post,
        "KMS": (calls["Decrypt"] + calls["Encrypt"]) * KMS_REQUEST * per_post,
        "Scheduler": slots * SCHEDULER_INVOCATION * per_post,
        "Logs": logs * per_post,
    }
    return Bill(calls, per_million)
