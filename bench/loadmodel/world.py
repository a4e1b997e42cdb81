"""The model's world: accounts with their tokens, posts due in the burst,
the fake TikTok behind an in-process connection pool, the metered table,
the publisher wired to them (nothing of the publisher is replaced)."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.loadmodel import infra
from bench.loadmodel.infra import Costs, SimKms, SimQueue

ORG = "org_loadmodel"
PROJECT = "prj_loadmodel"
TIKTOK_HOST = "tiktok.loadmodel"


@dataclass
class World:
    table: Any
    meter: Any
    queue: SimQueue
    publisher: Any
    tiktok: Any
    start: datetime
    due: list[str]
    post_of_caption: dict[str, str]
    first_init: dict[str, float] = field(default_factory=dict)


def slot_of(scheduled_for: str) -> datetime:
    from layers_shared.scheduling.trigger import slot_of as real

    return real(scheduled_for)


def build(options: Any, costs: Costs) -> World:
    from local import publisher_loop

    for name, value in publisher_loop.standalone_environment().items():
        os.environ.setdefault(name, value)
    os.environ["TIKTOK_API_BASE"] = f"http://{TIKTOK_HOST}"
    os.environ.setdefault("TIKTOK_CLIENT_KEY", "ck_test")
    os.environ.setdefault("WORK_QUEUE_SHARDS", "32")

    from layers_shared import aws, clock, http_client
    from layers_shared.models.entities import Media, ScheduledPost, SocialAccount
    from layers_shared.publisher.dispatch import Publisher
    from layers_shared.secrets import vault as vault_module
    from layers_shared.store import items
    from tests.fakes.memory_table import MemoryTable
    from tests.fakes.table_meter import TableMeter
    from tests.fakes.tiktok import FakeTikTok

    start = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
    clock.set_now(start - timedelta(hours=1))
    metering = {"on": False}

    def latency(operation: str) -> None:
        if metering["on"]:
            infra.advance(infra.LATENCY.get(operation, 0.006))

    meter = TableMeter(latency=latency, wcu_limit=options.wcu_limit, rcu_limit=options.rcu_limit)
    # No observer while the world is set up: that is not part of the bill.
    table = MemoryTable("layers-loadmodel", observer=None, sleep=lambda s: infra.advance(s) if metering["on"] else None)
    queue = SimQueue(costs)
    aws._clients["kms"] = SimKms(costs)
    vault_module.forget_decrypted()

    tiktok = FakeTikTok()
    tiktok.processing_polls = options.processing_polls
    tiktok.clock = lambda: clock.now().timestamp()

    from layers_shared.secrets.vault import KmsTokenVault
    vault = KmsTokenVault(table, key_id="alias/loadmodel")
    accounts = []
    for i in range(options.accounts):
        account = SocialAccount(id=f"sa_load_{i:06d}", projectId=PROJECT, organizationId=ORG, platform="tiktok",
                                handle=f"load{i}", connectedAt=clock.to_storage(start - timedelta(days=30)),
                                grantedScopes=["video.publish", "video.upload"])
        table.put(items.to_item(account))
        token = f"act.load.{i}"
        tiktok.add_account(token, f"rft.load.{i}")
        from layers_shared.platforms.port import Credentials
        vault.put(account.id, Credentials(access_token=token, refresh_token=f"rft.load.{i}",
                                          expires_at=clock.to_storage(start + timedelta(days=1)).replace(".000Z", "Z")))
        accounts.append(account)
    due, captions = [], {}
    for i in range(options.posts):
        account = accounts[i % len(accounts)]
        when = start + timedelta(seconds=(i * options.spread / options.posts) if options.spread else 0)
        post_id = f"sp_load_{i:06d}"
        caption = f"loadmodel {post_id}"
        post = ScheduledPost(id=post_id, organizationId=ORG, projectId=PROJECT, containerId="cnt_loadmodel",
                             socialAccountId=account.id, platform="tiktok", handle=account.handle, mode="publish",
                             env="live", scheduledFor=clock.to_storage(when), mediaType="video",
                             media=[Media(url="https://media.example.com/load.mp4", kind="video")], caption=caption,
                             createdAt=clock.to_storage(start - timedelta(hours=2)),
                             updatedAt=clock.to_storage(start - timedelta(hours=2)))
        table.put(items.to_item(post))
        due.append(post.scheduledFor)
        captions[caption] = post_id
    world = World(table=table, meter=meter, queue=queue, publisher=None, tiktok=tiktok, start=start, due=due,
                  post_of_caption=captions)

    def on_request(kind: str, request: Any, at: float) -> None:
        if kind == "init":
            body = request.json or {}
            post_id = captions.get(((body.get("post_info") or {}).get("title")) or "")
            if post_id is not None and post_id not in world.first_init:
                world.first_init[post_id] = at

    def kind_of(path: str) -> str:
        from tests.fakes.tiktok import CREATOR_INFO, INIT_PATHS, STATUS

        return ("init" if path in INIT_PATHS else "status" if path == STATUS else
                "creator_info" if path == CREATOR_INFO else "token" if "oauth" in path else "other")

    http_client._pool = infra.InProcessPool(costs, {TIKTOK_HOST: tiktok}, kind_of, on_request)  # type: ignore
    world.publisher = Publisher(table, queue, vault=vault)
    # Setup is not part of the bill: from here on, calls are metered and take time.
    table.observer = meter
    costs.calls.clear()
    metering["on"] = True
    clock.set_now(start)
    return world


def result(world: World, lam: Any, options: Any, size: Any, costs: Costs, fan_out: float, sim: float,
           wall: float) -> Any:
    from bench.loadmodel.model import Result

    statuses: Counter = Counter()
    codes: Counter = Counter()
    for i in range(options.posts):
        item = world.table.get({"PK": f"SP#sp_load_{i:06d}", "SK": "META"})
        statuses[item["status"]] += 1
        if item["status"] == "failed":
            codes[(item.get("lastError") or {}).get("code")] += 1
    lateness = [world.first_init[p] - datetime.fromisoformat(world.due[int(p[-6:])].replace("Z", "+00:00")).timestamp()
                for p in world.first_init]
    return Result(posts=options.posts, statuses=statuses, failed_codes=codes, lateness=lateness,
                  fan_out_seconds=fan_out, sim_seconds=sim, invocations=lam.invocations, gb_seconds=lam.gb_seconds,
                  messages=lam.messages, errors=lam.errors, dead_letters=lam.dead_letters,
                  peak_concurrency=lam.peak, max_init_per_minute=world.tiktok.max_per_minute("init"),
                  rate_limited=dict(world.tiktok.limited), meter=world.meter.report(), calls=costs.calls,
                  wall_seconds=wall, sizing=size,
                  paced_failures=sum(n for c, n in codes.items() if c in ("RATE_LIMITED", "PROCESSING_TIMEOUT")))
