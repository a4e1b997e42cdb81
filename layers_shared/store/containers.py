"""Content containers and projects in the single table: the DynamoDB side of
the `Containers` and `Projects` ports (`CNT#<id>`, `PRJ#<id>`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from layers_shared import clock
from layers_shared.domain.ports import IdsTaken, Remember, StaleWrite
from layers_shared.models.entities import Container, Project
from layers_shared.store import stash_store
from layers_shared.store import items, keys
from layers_shared.store.idempotency import CommitFailed, commit
from layers_shared.store.table import Table


class DynamoContainers:
    def __init__(self, table: Table):
        self.table = table

    def get(self, container_id: str) -> Container | None:
        return items.from_item(Container, self.table.get(keys.container(container_id)))

    def stash(self, container: Container, pending: dict[str, Any], supplied_ids: list[str], now: datetime,
              remember: Remember | None = None) -> None:
        inline, chunks = stash_store.split(container.id, pending, now)  # large stashes do not fit on one item
        names = {"#a": "approvalStatus", "#s": "status"}
        values = {":p": inline, ":now": clock.to_storage(now), ":pending": "pending", ":done": "completed"}
        # The replaced stash's chunks go in this transaction, so it must still be the one we read.
        replaced = stash_store.same_chunks_condition(container.pendingSchedule, names, values)
        tx = [self.table.tx_update(
            keys.container(container.id), "SET pendingSchedule = :p, updatedAt = :now",
            names=names, values=values, condition="#a = :pending AND #s = :done AND " + replaced,
        )]
        tx += [self.table.tx_check(keys.scheduled_post(i), "attribute_not_exists(PK)") for i in supplied_ids]
        tx += [self.table.tx_put(chunk) for chunk in chunks]
        tx += stash_store.drop_items(self.table, container.id, container.pendingSchedule)
        try:
            commit(self.table, tx, remember.reservation if remember else None, remember.answer if remember else None)
        except CommitFailed as exc:
            taken = [supplied_ids[i - 1] for i in sorted(exc.failed) if 1 <= i <= len(supplied_ids)]
            raise (IdsTaken(taken) if taken else StaleWrite()) from None


class DynamoProjects:
    def __init__(self, table: Table):
        self.table = table

    def get(self, project_id: str) -> Project | None:
        return items.from_item(Project, self.table.get(keys.project(project_id)))
