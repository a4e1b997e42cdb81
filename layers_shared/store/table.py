"""Thin typed access to the single table: the DynamoDB adapter.

Each method is one AWS call (BatchGetItem retries its unprocessed keys), so
callers can reason about calls per request.
"""
from __future__ import annotations

import time
from typing import Any, Iterable

from layers_shared import aws, config
from layers_shared.store import codec


class ConditionFailed(Exception):
    """A conditional write did not hold."""


class TransactionCanceled(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__(f"transaction canceled: {reasons}")
        self.reasons = reasons  # one code per item, "None" where the item was fine

    @property
    def busy(self) -> bool:
        """Canceled only for throttling or a conflicting transaction: nothing
        was written and the same request can simply be tried again."""
        codes = {r for r in self.reasons if r not in ("None", "", None)}
        return bool(codes) and codes <= BUSY_REASONS


# Cancellation reasons and error codes that mean "nothing was written, try later".
BUSY_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict", "RequestLimitExceeded"}
BUSY_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
              "TransactionConflictException"}
# Error codes after which a write may or may not have happened.
UNKNOWN_CODES = {"InternalServerError", "ServiceUnavailable", "InternalFailure"}


def fault_kind(exc: BaseException) -> str | None:
    """"busy" (throttled or conflicted: nothing written), "unknown" (the call
    may have been carried out, its answer was lost) or None (anything else,
    i.e. a bug). Lets callers answer 503 instead of 500 without knowing botocore."""
    if isinstance(exc, TransactionCanceled):
        return "busy" if exc.busy else None
    from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, \
        EndpointConnectionError, ReadTimeoutError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return "busy" if code in BUSY_CODES else "unknown" if code in UNKNOWN_CODES else None
    if isinstance(exc, (ConnectTimeoutError, EndpointConnectionError)):
        return "busy"  # the request never reached DynamoDB
    if isinstance(exc, (ReadTimeoutError, ConnectionClosedError)):
        return "unknown"
    return None


class Table:
    def __init__(self, name: str | None = None):
        self.name = name or config.table_name()

    @property
    def _ddb(self) -> Any:
        return aws.client("dynamodb")

    def get(self, key: dict[str, str], consistent: bool = False) -> dict[str, Any] | None:
        answer = self._ddb.get_item(TableName=self.name, Key=codec.serialize(key), ConsistentRead=consistent)
        return codec.deserialize(answer.get("Item"))

    def batch_get(self, keys: Iterable[dict[str, str]],
                  attributes: Iterable[str] | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        """All items found, by (PK, SK). Up to 100 distinct keys per call.
        `attributes`: read only these (and the keys) of each item."""
        unique = {(k["PK"], k["SK"]): k for k in keys}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        pending = [codec.serialize(k) for k in unique.values()]
        shape: dict[str, Any] = {}
        if attributes is not None:
            names = {f"#a{i}": name for i, name in enumerate(dict.fromkeys(["PK", "SK", *attributes]))}
            shape = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        while pending:
            chunk, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {self.name: {"Keys": chunk, **shape}}
            delay = 0.05
            while request:
                answer = self._ddb.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(self.name, []):
                    item = codec.deserialize(raw)
                    found[(item["PK"], item["SK"])] = item
                request = answer.get("UnprocessedKeys") or {}
                if request:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
        return found

    def put(self, item: dict[str, Any], condition: str | None = None,
            names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": codec.serialize(item)}
        _add_condition(kwargs, condition, names, values)
        try:
            self._ddb.put_item(**kwargs)
        except self._ddb.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed() from None

    def update(self, key: dict[str, str], expression: str, names: dict[str, str] | None = None,
               values: dict[str, Any] | None = None, condition: str | None = None,
               return_new: bool = False) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": codec.serialize(key),
                                  "UpdateExpression": expression}
        _add_condition(kwargs, condition, names, values)
        if return_new:
            kwargs["ReturnValues"] = "ALL_NEW"
        try:
            answer = self._ddb.update_item(**kwargs)
        except self._ddb.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed() from None
        return codec.deserialize(answer.get("Attributes")) if return_new else None

    def delete(self, key: dict[str, str], condition: str | None = None,
               names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": codec.serialize(key)}
        _add_condition(kwargs, condition, names, values)
        try:
            self._ddb.delete_item(**kwargs)
        except self._ddb.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed() from None

    def transact(self, items: list[dict[str, Any]]) -> None:
        """Items are built with the `tx_*` helpers below; all or nothing."""
        if not items:
            return
        try:
            self._ddb.transact_write_items(TransactItems=items)
        except self._ddb.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            raise TransactionCanceled(reasons) from None

    def query(self, index: str | None, key_name: str, key_value: str, *,
              sort_name: str | None = None, sort_condition: str | None = None,
              sort_values: dict[str, Any] | None = None, forward: bool = True,
              limit: int | None = None, start: dict[str, Any] | None = None,
              filter_expression: str | None = None, filter_names: dict[str, str] | None = None,
              filter_values: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """`limit` counts items read, before `filter_expression` drops any."""
        expression, names, values = query_condition(key_name, key_value, sort_name, sort_condition, sort_values,
                                                    filter_expression, filter_names, filter_values)
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": codec.serialize(values),
            "ScanIndexForward": forward,
        }
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        if index:
            kwargs["IndexName"] = index
        if limit:
            kwargs["Limit"] = limit
        if start:
            kwargs["ExclusiveStartKey"] = codec.serialize(start)
        answer = self._ddb.query(**kwargs)
        items = [codec.deserialize(i) for i in answer.get("Items", [])]
        last = codec.deserialize(answer.get("LastEvaluatedKey"))
        return items, last

    # -- transaction item builders -------------------------------------------------

    def tx_put(self, item: dict[str, Any], condition: str | None = None,
               names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": self.name, "Item": codec.serialize(item)}
        _add_condition(body, condition, names, values)
        return {"Put": body}

    def tx_update(self, key: dict[str, str], expression: str, names: dict[str, str] | None = None,
                  values: dict[str, Any] | None = None, condition: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": self.name, "Key": codec.serialize(key), "UpdateExpression": expression}
        _add_condition(body, condition, names, values)
        return {"Update": body}

    def tx_check(self, key: dict[str, str], condition: str, names: dict[str, str] | None = None,
                 values: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": self.name, "Key": codec.serialize(key)}
        _add_condition(body, condition, names, values)
        return {"ConditionCheck": body}


def query_condition(key_name: str, key_value: str, sort_name: str | None, sort_condition: str | None,
                    sort_values: dict[str, Any] | None, filter_expression: str | None,
                    filter_names: dict[str, str] | None,
                    filter_values: dict[str, Any] | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A Query's KeyConditionExpression with the names and values it and the
    filter use (`#pk`, `#sk` and `:pk` are taken)."""
    names = {"#pk": key_name}
    values: dict[str, Any] = {":pk": key_value}
    expression = "#pk = :pk"
    if sort_condition and sort_name:
        names["#sk"] = sort_name
        expression += f" AND {sort_condition}"
        values.update(sort_values or {})
    if filter_expression:
        names.update(filter_names or {})
        values.update(filter_values or {})
    return expression, names, values


def _add_condition(kwargs: dict[str, Any], condition: str | None,
                   names: dict[str, str] | None, values: dict[str, Any] | None) -> None:
    if condition:
        kwargs["ConditionExpression"] = condition
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if values:
        kwargs["ExpressionAttributeValues"] = codec.serialize(values)
