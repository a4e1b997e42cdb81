"""moto answers a Query by sorting every item of the table (comparing
DynamoType values) and then testing each against the key condition: over
100 ms per Query of a 12,000-item table, even for an empty partition. The
publisher's work queue is 32 index partitions, read by every slot's fan-out
and every sweep (every two seconds locally), and with 2,000 posts due at once
those walks took most of the local stack's CPU (docs/benchmarks.md, "Local
stack: 2,000 posts due in one second").

This patch hands moto's Query only the items whose partition key equals the
one asked for (one cheap comparison per item, no sort of the rest); moto then
does everything else (range condition, order, paging, filters, projection) as
before, on the same items it would have kept."""
from __future__ import annotations

import inspect
import threading
from typing import Any

_installed = False
_wanted = threading.local()
moto_query: Any = None  # moto's own, for tests that compare
moto_all_items: Any = None


def _same_partition(items: list[Any], conditions: list[tuple[str, Any]]) -> list[Any]:
    for name, expected in conditions:
        if expected.type == "S":  # the common case, without DynamoType's casts
            value = expected.value
            items = [i for i in items if (v := i.attrs.get(name)) is not None and v.type == "S" and v.value == value]
        else:
            items = [i for i in items if (v := i.attrs.get(name)) is not None and v == expected]
    return items


def install() -> None:
    global _installed, moto_query, moto_all_items
    if _installed:
        return
    from moto.dynamodb.models.table import Table

    query = moto_query = Table.query
    all_items = moto_all_items = Table.all_items
    signature = inspect.signature(query)

    def only_the_partition(self: Any) -> list[Any]:
        conditions = getattr(_wanted, "conditions", None)
        if not conditions:
            return all_items(self)
        # moto's all_items, but sorting only the partition's items: sorting the
        # whole table with DynamoType comparisons cost more than the walk.
        every = [item for group in self.items.values()
                 for item in (group.values() if self.range_key_attr else (group,))]
        return sorted(_same_partition(every, conditions),
                      key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    def partition_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked = signature.bind(self, *args, **kwargs).arguments
        if asked.get("index_name"):
            conditions = list(asked.get("hash_key_conditions") or [])
        elif asked.get("hash_key") is not None:
            conditions = [(self.hash_key_attr, asked["hash_key"])]
        else:
            conditions = []
        _wanted.conditions = conditions
        try:
            return query(self, *args, **kwargs)
        finally:
            _wanted.conditions = None

    Table.all_items = only_the_partition  # type: ignore[method-assign]
    Table.query = partition_query  # type: ignore[method-assign]
    _installed = True
