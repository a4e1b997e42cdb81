"""Rate-limit counters in the single table (`RL#<bucket>`): the DynamoDB side of
the `RateCounters` port. One atomic ADD per request, so a limit holds across
every Lambda instance; TTL removes a window's counter after it ends."""
from __future__ import annotations

from layers_shared.store import keys
from layers_shared.store.table import Table


class DynamoRateCounters:
    def __init__(self, table: Table):
        self.table = table

    def count(self, bucket: str, expires_at: int) -> int:
        item = self.table.update(
            keys.key("RL", bucket),
            "ADD #n :one SET expiresAt = if_not_exists(expiresAt, :exp)",
            names={"#n": "count"},
            values={":one": 1, ":exp": expires_at},
            return_new=True,
        )
        assert item is not None  # return_new
        return int(item["count"])
