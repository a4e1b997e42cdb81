"""Capacity metering and per-partition throttling for the in-memory table,
as an observer: `MemoryTable(observer=TableMeter(...))`.

What a request consumes, as DynamoDB bills it (developerguide: "Read/write
capacity mode", "Item sizes and formats", "GSI write considerations",
"Transactions: capacity management"):

- Reads: a GetItem or each BatchGetItem key, ceil(size / 4 KB) read units,
  at least 1 (an item that is not there costs the minimum), halved when
  eventually consistent. A Query: the summed sizes of the items it read (the
  index entries for a GSI, filtered out or not), rounded up to 4 KB, halved
  (Table.query reads eventually consistently).
- Writes: ceil(max(size before, size after) / 1 KB) write units, at least 1.
  A conditional write whose condition fails still consumes them (the docs:
  "DynamoDB still consumes write capacity ... the larger of the existing or
  new item"), with no index write.
- Transactions: every action twice (prepare and commit). A ConditionCheck is
  billed as a write, 2 units per KB of the item it checks: the API reference
  does not say, measurements against DynamoDB report it under
  WriteCapacityUnits (paritysuite/dynamodb-conformance #67, "A standalone
  ConditionCheck costs 2 WCU, billed as write rather than read"). A
  cancelled transaction is charged as if it had gone through, on the table
  only: the developer guide says capacity is consumed when a transaction
  does not succeed, and a cancelled one's response carries no
  ConsumedCapacity to say how much; nothing reaches an index.
- Index writes, per GSI, at the index entry's size (its projected
  attributes; the whole item for ALL): an item that enters the index, a put;
  leaves it, a delete; changes the index's key, a delete of the old entry
  plus a put of the new one (each in its own partition); changes only
  projected attributes, one write; changes nothing projected (KEYS_ONLY:
  anything but the keys), none. A transaction's index writes are not
  doubled: they propagate after the commit ("once a transaction completes,
  its changes start propagating to GSIs").

Units consumed are on-demand request units too (1 WRU = 1 WCU, 1 RRU = 1
RCU): the report's WRU/RRU totals are the bill.

Each (table or index, partition key value, simulated second) may take
`wcu_limit` write and `rcu_limit` read units; the second is
`layers_shared.clock.now()`'s, which the simulation sets. A request that
would take any partition it touches beyond its limit within its second is
refused before anything is applied (MemoryTable raises what DynamoDB
answers: ProvisionedThroughputExceededException, or TransactionCanceled
with "ThrottlingError" reasons) and consumes nothing; a write throttled by
an index partition is refused as a whole, as DynamoDB does.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from layers_shared import clock
from tests.fakes.item_size import attribute_size, item_size
from tests.fakes.memory_table import MemoryTable, Read, Throttled, Write

WCU_LIMIT = 1000  # per partition key value and second
RCU_LIMIT = 3000
READ_UNIT = 4096
WRITE_UNIT = 1024
KEEP_SECONDS = 120  # per-second buckets kept for late requests of a slightly earlier second
WRU_DOLLARS_PER_MILLION = 0.625  # on-demand, us-east-1 (docs/capacity.md)
RRU_DOLLARS_PER_MILLION = 0.125


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return float(units) if consistent else units / 2


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT))


@dataclass(frozen=True)
class Peak:
    """The most units one partition (or the whole table or index, partition
    None) took within one simulated second."""

    units: float = 0.0
    partition: Any = None
    second: int | None = None


@dataclass
class TargetReport:
    """The table or one index."""

    name: str
    peak_wcu: Peak = field(default_factory=Peak)  # per partition and second
    peak_rcu: Peak = field(default_factory=Peak)
    peak_total_wcu: Peak = field(default_factory=Peak)  # the whole table/index, per second
    peak_total_rcu: Peak = field(default_factory=Peak)
    wru: float = 0.0  # write request units consumed in all
    rru: float = 0.0
    throttled: int = 0  # requests refused because of a partition of this table/index


@dataclass
class MeterReport:
    targets: dict[str, TargetReport]
    calls: dict[str, int]  # AWS calls per operation name (each attempt of a retried call)
    throttled: dict[str, int]  # calls refused per operation name

    @property
    def total_wru(self) -> float:
        return sum(t.wru for t in self.targets.values())

    @property
    def total_rru(self) -> float:
        return sum(t.rru for t in self.targets.values())

    @property
    def throttled_requests(self) -> int:
        return sum(self.throttled.values())

    def dollars(self, wru_per_million: float = WRU_DOLLARS_PER_MILLION,
                rru_per_million: float = RRU_DOLLARS_PER_MILLION) -> float:
        return self.total_wru * wru_per_million / 1e6 + self.total_rru * rru_per_million / 1e6

    def text(self) -> str:
        lines = [f"{'table/index':<16} {'peak WCU/s':>10}  {'partition':<28} {'peak RCU/s':>10}  "
                 f"{'partition':<28} {'WRU':>12} {'RRU':>12} {'throttled':>9}"]
        for t in self.targets.values():
            lines.append(f"{t.name:<16} {t.peak_wcu.units:>10.1f}  {str(t.peak_wcu.partition)[:28]:<28} "
                         f"{t.peak_rcu.units:>10.1f}  {str(t.peak_rcu.partition)[:28]:<28} "
                         f"{t.wru:>12.1f} {t.rru:>12.1f} {t.throttled:>9}")
        lines.append(f"WRU {self.total_wru:.1f}, RRU {self.total_rru:.1f}, ${self.dollars():.4f}; "
                     f"calls {dict(sorted(self.calls.items()))}; throttled {dict(sorted(self.throttled.items()))}")
        return "\n".join(lines)


class TableMeter:
    """An observer for MemoryTable: meters, throttles, counts calls.

    `latency(operation)`, if given, is called after every AWS call (each
    attempt), so that a simulation can advance its clock."""

    def __init__(self, *, wcu_limit: float = WCU_LIMIT, rcu_limit: float = RCU_LIMIT,
                 latency: Callable[[str], None] | None = None):
        self.wcu_limit, self.rcu_limit, self.latency = wcu_limit, rcu_limit, latency
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self._stats: dict[str, _Stats] = {}
        # second -> (target, partition) -> [wcu, rcu]; and second -> target -> [wcu, rcu]
        self._partitions: dict[int, dict[tuple[str, Any], list[float]]] = {}
        self._totals: dict[int, dict[str, list[float]]] = {}
        self._index_cache: dict[int, tuple] = {}
        self._second: int | None = None  # the last second asked for, and its bucket
        self._used: dict[tuple[str, Any], list[float]] = {}

    # -- the observer ------------------------------------------------------------------

    def called(self, operation: str) -> None:
        self.calls[operation] += 1
        if self.latency is not None:
            self.latency(operation)

    def admit(self, table: MemoryTable, operation: str, reads: list[Read], writes: list[Write],
              transactional: bool) -> None:
        second = int(clock.now().timestamp())
        wanted: dict[tuple[str, Any], list[float]] = {}
        for read in reads:
            _add(wanted, (read.target, read.partition), 0.0, read_units(read.size, read.consistent))
        cancelled = transactional and not all(w.ok for w in writes)
        for write in writes:
            self._write_charges(table, write, transactional, cancelled, wanted)
        used = self._bucket(second)
        over = [tp for tp, (wcu, rcu) in wanted.items()
                if (wcu and used.get(tp, _NOTHING)[0] + wcu > self.wcu_limit)
                or (rcu and used.get(tp, _NOTHING)[1] + rcu > self.rcu_limit)]
        if over:
            self._refuse(table, operation, reads, writes, transactional, cancelled, set(over))
        totals = self._totals[second]
        for tp, (wcu, rcu) in wanted.items():
            now = used.get(tp)
            if now is None:
                now = used[tp] = [0.0, 0.0]
            now[0] += wcu
            now[1] += rcu
            target = tp[0]
            whole = totals.get(target)
            if whole is None:
                whole = totals[target] = [0.0, 0.0]
            whole[0] += wcu
            whole[1] += rcu
            stats = self._stats.get(target) or self._stats_of(target)
            stats.wru += wcu
            stats.rru += rcu
            if now[0] > stats.peak_wcu[0]:
                stats.peak_wcu = (now[0], tp[1], second)
            if now[1] > stats.peak_rcu[0]:
                stats.peak_rcu = (now[1], tp[1], second)
            if whole[0] > stats.peak_total_wcu[0]:
                stats.peak_total_wcu = (whole[0], None, second)
            if whole[1] > stats.peak_total_rcu[0]:
                stats.peak_total_rcu = (whole[1], None, second)

    def _refuse(self, table: MemoryTable, operation: str, reads: list[Read], writes: list[Write],
                transactional: bool, cancelled: bool, over: set[tuple[str, Any]]) -> None:
        """Count the refusal and name what it refuses (by index in the request)."""
        self.throttled[operation] += 1
        for target in {t for t, _ in over}:
            self._stats_of(target).throttled += 1
        refused_writes = set()
        for i, write in enumerate(writes):
            charges: dict[tuple[str, Any], list[float]] = {}
            self._write_charges(table, write, transactional, cancelled, charges)
            if not over.isdisjoint(charges):
                refused_writes.add(i)
        raise Throttled(reads={i for i, r in enumerate(reads) if (r.target, r.partition) in over},
                        writes=refused_writes)

    # -- the report ----------------------------------------------------------------------

    def report(self) -> MeterReport:
        targets = {name: TargetReport(name, Peak(*t.peak_wcu), Peak(*t.peak_rcu), Peak(*t.peak_total_wcu),
                                      Peak(*t.peak_total_rcu), t.wru, t.rru, t.throttled)
                   for name, t in sorted(self._stats.items())}
        return MeterReport(targets, dict(self.calls), dict(self.throttled))

    def used(self, target: str, partition: Any, second: int) -> tuple[float, float]:
        """(WCU, RCU) a partition has taken in a second (kept for KEEP_SECONDS)."""
        found = self._partitions.get(second, {}).get((target, partition))
        return (found[0], found[1]) if found else (0.0, 0.0)

    # -- capacity rules ------------------------------------------------------------------

    def _write_charges(self, table: MemoryTable, write: Write, transactional: bool, cancelled: bool,
                       wanted: dict[tuple[str, Any], list[float]]) -> None:
        """Add the write units of one written item, per (table or index, partition), to `wanted`."""
        old, new = write.old, write.new
        old_size = table.stored_size(write.key) if old is not None else 0
        if write.kind == "check":
            new_size = old_size
        elif new is None:
            new_size = 0
        elif old is not None and write.touched is not None:
            # An update: only what it wrote changes the size.
            new_size = old_size
            for name in (write.touched if len(write.touched) == len(set(write.touched))
                         else dict.fromkeys(write.touched)):
                was, now = old.get(name, _ABSENT), new.get(name, _ABSENT)
                if was is now:
                    continue
                if was is not _ABSENT:
                    new_size -= attribute_size(name, was)
                if now is not _ABSENT:
                    new_size += attribute_size(name, now)
            write.new_size = new_size
        else:
            new_size = write.new_size = item_size(new)
        _add(wanted, (table.name, write.key[0]), write_units(max(old_size, new_size)) * (2 if transactional else 1), 0)
        if not write.ok or write.kind == "check" or cancelled:
            return
        changed = write.changed if write.changed is not None else MemoryTable._changed(old, new)
        for index, hash_key, range_key in self._indexes(table):
            before = old is not None and hash_key in old and (range_key is None or range_key in old)
            after = new is not None and hash_key in new and (range_key is None or range_key in new)
            if before and after:
                if hash_key in changed or (range_key is not None and range_key in changed):
                    _add(wanted, (index.name, old[hash_key]), write_units(_entry_size(index, old, old_size)), 0)
                    _add(wanted, (index.name, new[hash_key]), write_units(_entry_size(index, new, new_size)), 0)
                elif index.projection == "ALL" and changed or not index.kept.isdisjoint(changed):
                    units = write_units(max(_entry_size(index, old, old_size), _entry_size(index, new, new_size)))
                    _add(wanted, (index.name, new[hash_key]), units, 0)
            elif before:
                _add(wanted, (index.name, old[hash_key]), write_units(_entry_size(index, old, old_size)), 0)
            elif after:
                _add(wanted, (index.name, new[hash_key]), write_units(_entry_size(index, new, new_size)), 0)

    def _indexes(self, table: MemoryTable) -> tuple:
        found = self._index_cache.get(id(table.schema))
        if found is None:
            found = self._index_cache[id(table.schema)] = tuple(
                (i, i.hash_key, i.range_key) for i in table.schema.indexes)
        return found

    def _bucket(self, second: int) -> dict[tuple[str, Any], list[float]]:
        if second == self._second:
            return self._used
        found = self._partitions.get(second)
        if found is None:
            found = self._partitions[second] = {}
            self._totals[second] = {}
            for old in [s for s in self._partitions if s < second - KEEP_SECONDS]:
                del self._partitions[old]
                del self._totals[old]
        self._second, self._used = second, found
        return found

    def _stats_of(self, name: str) -> _Stats:
        found = self._stats.get(name)
        if found is None:
            found = self._stats[name] = _Stats()
        return found


_NOTHING = (0.0, 0.0)
_ABSENT = object()


class _Stats:
    """A table's or index's running figures (peaks as (units, partition, second))."""

    __slots__ = ("wru", "rru", "throttled", "peak_wcu", "peak_rcu", "peak_total_wcu", "peak_total_rcu")

    def __init__(self) -> None:
        self.wru = self.rru = 0.0
        self.throttled = 0
        self.peak_wcu = self.peak_rcu = self.peak_total_wcu = self.peak_total_rcu = (0.0, None, None)


def _add(wanted: dict[tuple[str, Any], list[float]], key: tuple[str, Any], wcu: float, rcu: float) -> None:
    found = wanted.get(key)
    if found is None:
        wanted[key] = [wcu, rcu]
    else:
        found[0] += wcu
        found[1] += rcu


def _entry_size(index: Any, item: dict[str, Any] | None, whole: int) -> int:
    return whole if index.projection == "ALL" else item_size(index.project(item))  # type: ignore[arg-type]
