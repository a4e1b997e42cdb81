"""The load model: N posts due in one slot, published by the real publisher
(`Publisher.handle`, `sweep.fan_out`, `sweep.sweep`) on simulated time.

- DynamoDB: the in-memory table with the template's keys and indexes,
  metered and throttled per partition and second (tests/fakes/table_meter.py).
- Lambda: the publish queue's event source as AWS documents it for standard
  queues (5 concurrent batches when messages appear, up to 300 more per
  minute, capped by the template's MaximumConcurrency), the template's
  BatchSize, batching window, timeout and memory; a batch's messages run side
  by side; cold starts for new execution environments; a message whose
  handler raises comes back after the visibility timeout.
- The Scheduler invokes the slot's fan-out at its second; the sweeper runs
  every minute.
- Platforms: the fake TikTok in process, with its per-token limits (6 inits,
  30 status reads, 20 creator_info a minute).

Time comes from `layers_shared.clock` (set by the model); a handler's
simulated duration is the latency of every call it makes plus the CPU our
own code spent (measured, scaled to the function's vCPU share).
"""
from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from bench.loadmodel import infra
from bench.loadmodel.infra import Costs, SimKms, SimQueue, advance, percentile

ROOT = Path(__file__).resolve().parents[2]
TOKEN_PREFIX = "act.load."


@dataclass(frozen=True)
class Sizing:
    """What template.yaml says about the publisher."""

    batch_size: int
    batching_window: float
    max_concurrency: int
    timeout: float
    memory_mb: int
    visibility_timeout: float
    max_receive: int
    shards: int

    @property
    def vcpu(self) -> float:
        return min(6.0, self.memory_mb / 1769)  # Lambda: one vCPU at 1,769 MB


def sizing(template: Path = ROOT / "template.yaml") -> Sizing:
    from layers_shared import config
    from local.routes import load_template

    doc = load_template(template)
    res = doc["Resources"]
    fn = res["PublisherFunction"]["Properties"]
    esm = res["PublishQueueEvents"]["Properties"]
    queue = res["PublishQueue"]["Properties"]
    conc = esm["ScalingConfig"]["MaximumConcurrency"]
    if isinstance(conc, dict):  # !Ref PublisherMaxConcurrency
        conc = doc["Parameters"][conc["Ref"]]["Default"]
    memory = fn.get("MemorySize") or doc["Globals"]["Function"]["MemorySize"]
    return Sizing(batch_size=int(esm["BatchSize"]), batching_window=float(esm.get("MaximumBatchingWindowInSeconds", 0)),
                  max_concurrency=int(conc), timeout=float(fn["Timeout"]), memory_mb=int(memory),
                  visibility_timeout=float(queue["VisibilityTimeout"]),
                  max_receive=int(queue["RedrivePolicy"]["maxReceiveCount"]), shards=config.work_queue_shards())


@dataclass
class Options:
    posts: int = 100_000
    accounts: int = 50_000
    spread: float = 60.0          # posts due over this many seconds from the start (one slot per second)
    initial_batches: int = 5      # AWS: "five concurrent invocations" when messages appear
    ramp_per_minute: int = 300    # AWS: "up to 300 more instances per minute"
    cold_start: float = 0.8       # a new execution environment's init (arm64, 1 GB; bench_cold_start)
    sweep_offset: float = 30.0    # when in each minute the sweeper's rate(1 minute) fires
    tick: float = 0.05
    give_up_after: float = 4 * 3600.0
    processing_polls: int = 1     # TikTok status reads that answer PROCESSING before COMPLETE
    wcu_limit: float = 1000.0     # per partition key value and second (DynamoDB's)
    rcu_limit: float = 3000.0
    lost_slots: bool = False      # no slot fires (CreateSchedule throttled): the sweeper finds every post


@dataclass
class Result:
    posts: int
    statuses: Counter
    failed_codes: Counter
    lateness: list[float]
    fan_out_seconds: float
    sim_seconds: float
    invocations: int
    gb_seconds: float
    messages: int
    errors: int
    dead_letters: int
    peak_concurrency: int
    max_init_per_minute: int
    rate_limited: dict[str, int]
    meter: Any
    calls: Counter
    wall_seconds: float
    sizing: Sizing
    paced_failures: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Lambda:
    """The publish queue's event source and the function's environments."""

    def __init__(self, size: Sizing, options: Options, costs: Costs, queue: SimQueue,
                 handle: Callable[[dict[str, Any]], str]) -> None:
        self.size, self.options, self.costs, self.queue, self.handle = size, options, costs, queue, handle
        self.running: list[float] = []  # end instants
        self.idle_environments = 0
        self.ramp_from: float | None = None
        self.invocations = 0
        self.gb_seconds = 0.0
        self.messages = 0
        self.errors = 0
        self.dead_letters = 0
        self.peak = 0
        self.results: Counter[str] = Counter()

    def cap(self, now: float) -> int:
        if self.ramp_from is None:
            return 0
        grown = self.options.initial_batches + self.options.ramp_per_minute * (now - self.ramp_from) / 60
        return int(min(self.size.max_concurrency, grown))

    def step(self, now: float) -> None:
        while self.running and self.running[0] <= now:
            heapq.heappop(self.running)
            self.idle_environments += 1
        self.queue.advance(now)
        if self.queue.ready and self.ramp_from is None:
            self.ramp_from = now
        while self.queue.ready and len(self.running) < self.cap(now):
            oldest = self.queue.ready[0].visible_at
            if len(self.queue.ready) < self.size.batch_size and now - oldest < self.size.batching_window:
                break
            self._invoke(now, self.queue.take(self.size.batch_size))
        self.peak = max(self.peak, len(self.running))

    def _invoke(self, now: float, batch: list[infra.Message]) -> None:
        from layers_shared import clock

        cold = self.idle_environments == 0
        if not cold:
            self.idle_environments -= 1
        start = now + (self.options.cold_start if cold else 0.0)
        longest, cpu_total = 0.0, 0.0
        for message in batch:
            clock.set_now(datetime.fromtimestamp(start, timezone.utc))
            cpu0, ext0 = time.process_time(), self.costs.external_cpu
            try:
                self.results[self.handle(message.body)] += 1
                failed = False
            except Exception:
                self.errors += 1
                failed = True
            ours = max(0.0, (time.process_time() - cpu0) - (self.costs.external_cpu - ext0)) / self.size.vcpu
            took = clock.now().timestamp() - start + ours
            cpu_total += ours
            longest = max(longest, took)
            if failed:
                message.receives += 1
                if message.receives >= self.size.max_receive:
                    self.dead_letters += 1
                else:
                    self.queue.requeue(message, now + self.size.visibility_timeout)
        # Side by side on the function's vCPU share: never shorter than the CPU it needed.
        duration = min(self.size.timeout, max(longest, cpu_total)) + (self.options.cold_start if cold else 0.0)
        heapq.heappush(self.running, now + duration)
        self.invocations += 1
        self.messages += len(batch)
        self.gb_seconds += duration * self.size.memory_mb / 1024


def run(options: Options) -> Result:
    """Build the world, fire the slots, run until every post is terminal."""
    from bench.loadmodel import world as world_module
    from layers_shared import clock
    from layers_shared.publisher import sweep
    from layers_shared.publisher.settings import timings

    wall = time.monotonic()
    size = sizing()
    costs = Costs()
    world = world_module.build(options, costs)
    queue = world.queue
    publisher = world.publisher
    start = world.start.timestamp()

    # The fan-out's shards run side by side: each from the same instant,
    # the invocation lasting as long as the slowest.
    def parallel(fn: Callable[[Any], Any], tasks: Any) -> list[Any]:
        begin = clock.now()
        ends, out = [], []
        for task in list(tasks):
            clock.set_now(begin)
            out.append(fn(task))
            ends.append(clock.now())
        clock.set_now(max(ends, default=begin))
        return out
    sweep.run_parallel = parallel

    lam = Lambda(size, options, costs, queue, publisher.handle)
    slots = sorted({world_module.slot_of(when) for when in world.due})
    triggers: list[tuple[float, int, dict[str, Any]]] = []
    seq = itertools.count()
    for slot in ([] if options.lost_slots else slots):
        heapq.heappush(triggers, (slot.timestamp(), next(seq), {"kind": "slot", "slot": clock.to_storage(slot)}))
    next_sweep = start + options.sweep_offset
    fan_out = 0.0  # the longest a slot's fan-out took
    swept: list[tuple[float, int, float]] = []  # (when, posts sent, seconds it took) per sweeper run
    terminal = {"published", "failed", "draft"}
    done = 0
    now = start
    timing = timings()
    while done < options.posts and now - start < options.give_up_after:
        while triggers and triggers[0][0] <= now:
            at, _, event = heapq.heappop(triggers)
            clock.set_now(datetime.fromtimestamp(at, timezone.utc))
            sweep.fan_out(world.table, queue, event["slot"], clock.now())
            fan_out = max(fan_out, clock.now().timestamp() - at)
            lam.invocations += 1
            lam.gb_seconds += (clock.now().timestamp() - at) * size.memory_mb / 1024
        if now >= next_sweep:
            clock.set_now(datetime.fromtimestamp(next_sweep, timezone.utc))
            found = sweep.sweep(world.table, queue, clock.now(), timing)
            swept.append((next_sweep - start, found["queued"], clock.now().timestamp() - next_sweep))
            lam.invocations += 1
            lam.gb_seconds += (clock.now().timestamp() - next_sweep) * size.memory_mb / 1024
            next_sweep += 60
        lam.step(now)
        done = sum(lam.results[k] for k in terminal)
        if not lam.queue.ready and not lam.running:
            upcoming = [t for t in (queue.next_visible(), triggers[0][0] if triggers else None, next_sweep)
                        if t is not None]
            now = max(now + options.tick, min(upcoming))
        else:
            now += options.tick
    result = world_module.result(world, lam, options, size, costs, fan_out, now - start, time.monotonic() - wall)
    result.extra["slots"] = 0 if options.lost_slots else len(slots)
    result.extra["sweeps"] = swept
    return result
