"""Operations per second of the in-memory table (tests/fakes/memory_table.py),
alone and with the capacity meter: `make loadmodel` makes millions of calls.

    .venv/bin/python bench/bench_memory_table.py

Each figure is the best of ROUNDS rounds of ROUND operations (wall time): the
best round is the one a loaded machine disturbed least.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROUND = 2_000
ROUNDS = 10
POSTS = ROUND * ROUNDS


def _rate(run: Callable[[range], None]) -> int:
    best = float("inf")
    for r in range(ROUNDS):
        started = time.perf_counter()
        run(range(r * ROUND, (r + 1) * ROUND))
        best = min(best, time.perf_counter() - started)
    return round(ROUND / best)


def _scenario(metered: bool) -> dict[str, Any]:
    from layers_shared import clock
    from tests.fakes.memory_table import MemoryTable
    from tests.fakes.table_meter import TableMeter

    # Limits out of reach: this measures the table, not throttling.
    table = MemoryTable(observer=TableMeter(wcu_limit=1e12, rcu_limit=1e12) if metered else None)
    stamp = "2026-05-01T12:00:00.000Z"
    keys = [{"PK": f"SP#{i}", "SK": "META"} for i in range(POSTS)]

    def puts(part: range) -> None:
        for i in part:
            table.put({**keys[i], "id": f"sp_{i}", "status": "queued", "scheduledFor": stamp, "caption": "x" * 300,
                       "media": [{"url": "https://media.example.com/a.mp4", "kind": "video"}],
                       "GSI2PK": f"WQ#queued#{i % 32}", "GSI2SK": f"{stamp}#sp_{i}"})

    names = {"#tok": "attemptToken", "#lease": "leaseUntil", "#upd": "updatedAt", "#s": "status"}

    def simple_updates(part: range) -> None:  # a lease extension: three SETs, a condition, the new item back
        for i in part:
            table.update(keys[i], "SET #tok = :fresh, #lease = :lease, #upd = :now", names=names,
                         values={":fresh": "t", ":lease": stamp, ":now": stamp, ":q": "queued"},
                         condition="#s = :q", return_new=True)

    def gets(part: range) -> None:
        for i in part:
            table.get(keys[i], consistent=True)

    def query_pages(part: range) -> None:  # ROUND // 1000 pages of 1,000 keys-only entries
        shard, start = part.start // ROUND, None
        for _ in range(ROUND // 1000):
            _, start = table.query("GSI2", "GSI2PK", f"WQ#queued#{shard}", sort_name="GSI2SK",
                                   sort_condition="#sk <= :upper", sort_values={":upper": stamp + "#~"},
                                   start=start, limit=1000)

    clock.set_now(datetime(2026, 5, 1, 12, tzinfo=timezone.utc))
    try:
        return {"puts_per_s": _rate(puts), "simple_updates_per_s": _rate(simple_updates),
                "consistent_gets_per_s": _rate(gets), "query_items_per_s": _rate(query_pages)}
    finally:
        clock.set_now(None)


def run() -> dict[str, Any]:
    return {"plain": _scenario(metered=False), "metered": _scenario(metered=True)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
