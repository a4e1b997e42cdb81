"""Operations per second of the in-memory table (tests/fakes/memory_table.py),
alone and with the capacity meter: `make loadmodel` makes millions of calls.

    .venv/bin/python bench/bench_memory_table.py

Rates are per second of this process's CPU time (`cpu`) and of wall time
(`wall`, which a loaded machine lowers).
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

POSTS = 20_000


def _rate(count: int, run: Callable[[], None]) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"cpu": round(count / cpu), "wall": round(count / wall)}


def _scenario(metered: bool) -> dict[str, Any]:
    from layers_shared import clock
    from tests.fakes.memory_table import MemoryTable
    from tests.fakes.table_meter import TableMeter

    table = MemoryTable(observer=TableMeter() if metered else None)
    stamp = "2026-05-01T12:00:00.000Z"
    keys = [{"PK": f"SP#{i}", "SK": "META"} for i in range(POSTS)]

    def puts() -> None:
        for i, key in enumerate(keys):
            table.put({**key, "id": f"sp_{i}", "status": "queued", "scheduledFor": stamp, "caption": "x" * 300,
                       "media": [{"url": "https://media.example.com/a.mp4", "kind": "video"}],
                       "GSI2PK": f"WQ#queued#{i % 32}", "GSI2SK": f"{stamp}#sp_{i}"})

    names = {"#tok": "attemptToken", "#lease": "leaseUntil", "#upd": "updatedAt", "#s": "status"}

    def simple_updates() -> None:  # a lease extension: three SETs, a condition, the new item back
        for key in keys:
            table.update(key, "SET #tok = :fresh, #lease = :lease, #upd = :now", names=names,
                         values={":fresh": "t", ":lease": stamp, ":now": stamp, ":q": "queued"},
                         condition="#s = :q", return_new=True)

    def gets() -> None:
        for key in keys:
            table.get(key, consistent=True)

    def queries() -> None:
        for shard in range(32):
            start = None
            while True:
                _, start = table.query("GSI2", "GSI2PK", f"WQ#queued#{shard}", sort_name="GSI2SK",
                                       sort_condition="#sk <= :upper", sort_values={":upper": stamp + "#~"},
                                       start=start, limit=1000)
                if not start:
                    break

    clock.set_now(datetime(2026, 5, 1, 12, tzinfo=timezone.utc))
    try:
        return {"puts_per_s": _rate(POSTS, puts), "simple_updates_per_s": _rate(POSTS, simple_updates),
                "consistent_gets_per_s": _rate(POSTS, gets), "query_items_per_s": _rate(POSTS, queries)}
    finally:
        clock.set_now(None)


def run() -> dict[str, Any]:
    return {"plain": _scenario(metered=False), "metered": _scenario(metered=True)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
