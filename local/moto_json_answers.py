"""moto 5.2 writes every answer through its generic, model-driven serializer,
which walks each DynamoDB attribute value member by member. For the hot
operations of the local stack that cost more than the work itself: with 2,000
posts due at once, serializing Query pages and the table stream's GetRecords
(every record carries the item's new image) took a third of the process's
CPU (docs/benchmarks.md, "Local stack: 2,000 posts due in one second").

Those answers are already the wire's JSON (moto builds DynamoDB's with
`dynamo_to_dict`), so this patch writes them with `json.dumps`: binary values
base64-encoded and instants as epoch seconds, as the serializer would.
Every other operation, and every error, still goes through moto's serializer."""
from __future__ import annotations

import base64
import calendar
import json
from datetime import datetime
from typing import Any

# Not DeleteItem: moto adds a member to its answer that the serializer drops.
PLAIN_JSON = frozenset(
    {("dynamodb", op) for op in ("GetItem", "PutItem", "UpdateItem", "Query", "Scan", "BatchGetItem",
                                 "BatchWriteItem", "TransactGetItems", "TransactWriteItems")}
    | {("dynamodbstreams", "GetRecords")})

_installed = False
moto_execute_result: Any = None  # moto's own, for tests that compare


def _wire(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):  # naive ones are UTC in moto
        seconds = calendar.timegm(value.utctimetuple() if value.tzinfo else value.timetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    raise TypeError(f"{type(value).__name__} is not plain JSON")


def body(result: Any) -> str | None:
    """The answer as the wire writes it, or None when moto's serializer must do it."""
    if not isinstance(result, dict):
        return None
    try:
        return json.dumps(result, default=_wire)
    except TypeError:
        return None


def install() -> None:
    global _installed, moto_execute_result
    if _installed:
        return
    from moto.core.responses import ActionResult

    original = moto_execute_result = ActionResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        service = operation.service_model
        if (service.service_name, operation.name) in PLAIN_JSON:
            text = body(self.result)
            if text is not None:
                version = service.metadata.get("jsonVersion", "1.0")
                return 200, {"Content-Type": f"application/x-amz-json-{version}"}, text
        return original(self, context)

    ActionResult.execute_result = execute_result  # type: ignore[method-assign]
    _installed = True
