"""A moto world with the default fixture loaded, an in-memory publish queue,
and a builder for scheduled posts (written the way the API writes them)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any, Iterator

import pytest

from tests.support import ROOT


class World:
    def __init__(self) -> None:
        from layers_shared import seed
        from layers_shared.publisher.queue import InMemoryQueue
        from layers_shared.secrets.vault import KmsTokenVault
        from layers_shared.store.table import Table

        self.table = Table()
        self.vault = KmsTokenVault(self.table)
        fixture = seed.parse(json.loads((ROOT / "local" / "seed" / "default.json").read_text()))
        seed.load(fixture, self.table, self.vault)
        self.accounts = {a.id: a for a in fixture.socialAccounts}
        self.queue = InMemoryQueue()

    def publisher(self, **kw: Any):
        from layers_shared.publisher.dispatch import Publisher
        from layers_shared.publisher.settings import Timings

        timings = kw.pop("timings", None) or Timings(lease=60, retry_base=1, max_attempts=5, retry_window=600,
                                                      poll_base=1, poll_cap=30, processing_limit=3600,
                                                      sweep_grace=0)
        return Publisher(self.table, self.queue, vault=self.vault, timings=timings, **kw)

    def post(self, account_id: str, *, when: datetime, mode: str = "publish", env: str = "test",
             container: str = "cnt_66666666-6666-4666-8666-000000000001", media_type: str = "video") -> str:
        from layers_shared import clock
        from layers_shared.models.entities import Media, ScheduledPost
        from layers_shared.store import items

        account = self.accounts[account_id]
        post = ScheduledPost(
            id=f"sp_{uuid.uuid4()}", organizationId="org_11111111-1111-4111-8111-111111111111",
            projectId=account.projectId, containerId=container, socialAccountId=account_id,
            platform=account.platform, handle=account.handle, mode=mode, env=env,
            scheduledFor=clock.to_storage(when), mediaType=media_type,
            media=[Media(url="https://media.example.com/pour.mp4", kind="video")], caption="Morning pour",
            managedProvider="acme-distribution" if mode == "managed" else None,
            createdAt=clock.to_storage(when - timedelta(minutes=5)), updatedAt=clock.to_storage(when),
        )
        self.table.put(items.to_item(post))
        return post.id

    def read(self, post_id: str) -> dict[str, Any]:
        from layers_shared.store import keys

        return self.table.get(keys.scheduled_post(post_id), consistent=True)

    def deliveries(self, post_id: str | None = None) -> list[dict[str, Any]]:
        from layers_shared.sandbox import deliveries

        found = deliveries.list_all(self.table)
        return [d for d in found if post_id is None or d.get("scheduledPostId") == post_id]


@pytest.fixture
def world() -> Iterator[World]:
    from layers_shared import clock
    from local import aws_world

    mock = aws_world.start("layers-unit-publisher")
    try:
        yield World()
    finally:
        clock.set_now(None)
        mock.stop()


@pytest.fixture
def now() -> datetime:
    from layers_shared import clock

    return clock.truncate_ms(clock.now())
