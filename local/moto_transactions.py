"""In-process moto rolls a failed TransactWriteItems back by deep-copying the
whole table before every transaction (once per item). With the publisher's
terminal writes now transactions (the webhook outbox), a 1000-post fault
campaign copied a table of thousands of items thousands of times: minutes of
CPU and over 18 GB. The rollback needs only the items the transaction names
(each item may be named once), so this patch snapshots those and restores
them when moto raises; moto's own checks and errors are unchanged."""
from __future__ import annotations

import copy
from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    class _TablesStayLive:
        """moto's `copy` inside its DynamoDB backend: tables are not copied."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(obj: Any, memo: Any = None) -> Any:
            return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before = _touched(self, transact_items)
        streams = {name: len(shard.items) for name, shard in _shards(self, before)}
        try:
            return original(self, transact_items)
        except BaseException:
            for table_name, key, attrs in reversed(before):
                if attrs is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            # A cancelled transaction leaves no stream record, neither of its
            # partial writes nor of their undoing.
            for name, shard in _shards(self, before):
                del shard.items[streams[name]:]
            raise

    models.copy = _TablesStayLive()  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed = True


def _shards(backend: Any, touched: list[tuple[str, dict[str, Any], Any]]) -> list[tuple[str, Any]]:
    names = {name for name, _, _ in touched}
    return [(name, backend.tables[name].stream_shard) for name in sorted(names)
            if getattr(backend.tables.get(name), "stream_shard", None) is not None]


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], Any]]:
    """(table, key, the item as it is now or None) for every item the transaction names."""
    found = []
    for item in transact_items:
        if len(item) != 1:
            continue  # moto refuses it before writing anything
        op_type, op = next(iter(item.items()))
        name = op.get("TableName")
        if name not in backend.tables:
            continue
        table = backend.tables[name]
        if op_type == "Put":
            attrs = op.get("Item") or {}
            key = {k: attrs[k] for k in (table.hash_key_attr, table.range_key_attr) if k and k in attrs}
        else:
            key = op.get("Key")
        if not key:
            continue
        current = backend.get_item(name, key)
        found.append((name, key, copy.deepcopy(current.to_json()["Attributes"]) if current is not None else None))
    return found
