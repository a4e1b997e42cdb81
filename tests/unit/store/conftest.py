"""The two sides of every storage port: the DynamoDB adapter on a moto table
built from template.yaml, and the in-memory fake. Contract tests take
`world` and run once per side."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest


@pytest.fixture(scope="package")
def moto_table() -> Iterator[Any]:
    from moto import mock_aws

    from layers_shared import aws
    from layers_shared.store.table import Table
    from local import moto_transactions
    from local.aws_world import create_table

    mock = mock_aws()
    mock.start()
    # The local stack's moto: a transaction rolls back only the items it names. Plain
    # moto deep-copies the whole (package-shared, growing) table for every transaction.
    moto_transactions.install()
    aws.reset()
    name = "layers-contract"
    create_table(name)
    yield Table(name)
    mock.stop()
    aws.reset()


@dataclass
class World:
    """The ports under test, and how a test arranges what is already stored."""

    side: str
    ports: dict[str, Any]
    seed: Callable[[Any], None]
    reservation: Callable[[], Any]  # a fresh Idempotency-Key reservation
    raised: Callable[[str], bool]  # whether a change's events are in the outbox


def _dynamo(table: Any) -> World:
    from layers_shared.store import items
    from layers_shared.store.accounts import DynamoAccounts
    from layers_shared.store.containers import DynamoContainers, DynamoProjects
    from layers_shared.store.idempotency import DynamoIdempotencyRecords
    from layers_shared.store.music import DynamoMusicCatalog
    from layers_shared.store.posts import DynamoPosts
    from layers_shared.store.ratelimit import DynamoRateCounters
    from layers_shared.store.sandbox_records import DynamoSandboxRecords
    from layers_shared.store.schedule_world import DynamoScheduleWorlds
    from layers_shared.webhooks import outbox

    return World("dynamodb", {"posts": DynamoPosts(table), "containers": DynamoContainers(table),
                              "projects": DynamoProjects(table), "accounts": DynamoAccounts(table),
                              "music": DynamoMusicCatalog(table), "idempotency": DynamoIdempotencyRecords(table),
                              "rates": DynamoRateCounters(table), "worlds": DynamoScheduleWorlds(table),
                              "sandbox": DynamoSandboxRecords(table)},
                 lambda entity: table.put(items.to_item(entity)),
                 lambda: DynamoIdempotencyRecords(table).reserve(f"contract#{uuid.uuid4()}", "fp"),
                 lambda change: table.get(outbox.outbox_key(change), consistent=True) is not None)


def _memory() -> World:
    from layers_shared.models.entities import Container, Layer, MusicTrack, Project, ScheduledPost, SocialAccount
    from tests.fakes.store import (
        InMemoryAccounts, InMemoryContainers, InMemoryIdempotencyRecords, InMemoryMusicCatalog, InMemoryPosts,
        InMemoryProjects, InMemoryRateCounters, InMemorySandboxRecords, InMemoryScheduleWorlds,
    )

    posts = InMemoryPosts()
    ports = {"posts": posts, "containers": InMemoryContainers(posts), "projects": InMemoryProjects(),
             "accounts": InMemoryAccounts(), "music": InMemoryMusicCatalog(),
             "idempotency": InMemoryIdempotencyRecords(), "rates": InMemoryRateCounters(),
             "sandbox": InMemorySandboxRecords()}
    ports["worlds"] = InMemoryScheduleWorlds(ports["projects"], ports["accounts"], ports["music"])
    by_type = {ScheduledPost: "posts", Container: "containers", Project: "projects", SocialAccount: "accounts",
               Layer: "accounts", MusicTrack: "music"}
    return World("memory", ports, lambda entity: ports[by_type[type(entity)]].add(entity),
                 lambda: ports["idempotency"].reserve(f"contract#{uuid.uuid4()}", "fp"),
                 lambda change: change in ports["posts"].events)


@pytest.fixture(params=["dynamodb", "memory"])
def world(request: pytest.FixtureRequest) -> World:
    if request.param == "dynamodb":
        return _dynamo(request.getfixturevalue("moto_table"))
    return _memory()


@pytest.fixture
def project_id() -> str:
    """A project of its own per test: the moto table is shared by the whole package."""
    return f"prj_{uuid.uuid4()}"
