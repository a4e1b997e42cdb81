"""Content containers and projects in the single table: the DynamoDB side of
the `Containers` and `Projects` ports (`CNT#<id>`, `PRJ#<id>`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from layers_shared import clock
from layers_shared.domain import approval as rules
from layers_shared.domain.ports import ChangeEvents, IdsTaken, Remember, StaleWrite
from layers_shared.models.entities import Container, Project, ScheduledPost
from layers_shared.store import stash_store
from layers_shared.store import items, keys
from layers_shared.store.idempotency import CommitFailed, commit
from layers_shared.store.table import Table, TransactionCanceled
from layers_shared.webhooks import outbox


class DynamoContainers:
    def __init__(self, table: Table):
        self.table = table

    def get(self, container_id: str, *, consistent: bool = False) -> Container | None:
        return items.from_item(Container, self.table.get(keys.container(container_id), consistent))

    def stashed(self, container: Container) -> dict[str, Any]:
        return stash_store.load(self.table, container.id, container.pendingSchedule or {})

    def approve(self, container: Container, stamp: str, key_id: str, note: str | None, posts: list[ScheduledPost],
                promotion: dict[str, Any] | None, events: ChangeEvents, remember: Remember | None = None) -> None:
        sets = ["#a = :approved", "approvedAt = :now", "approvedBy = :by", "updatedAt = :now"]
        values: dict[str, Any] = {":approved": "approved", ":now": stamp, ":by": key_id, ":pending": "pending"}
        if note is not None:
            sets.append("approvalNote = :note")
            values[":note"] = note
        names = {"#a": "approvalStatus"}
        tx = [self.table.tx_update(keys.container(container.id), "SET " + ", ".join(sets) + " REMOVE pendingSchedule",
                                   names=names, values=values, condition=_same_stash(container, names, values))]
        tx += [self.table.tx_put(items.to_item(p), condition="attribute_not_exists(PK)") for p in posts]
        # After the posts: failed indices 1..len(posts) name post ids.
        tx += stash_store.drop_items(self.table, container.id, container.pendingSchedule)
        tx.append(outbox.tx_put(self.table, events.change, events.organization_id, events.events, events.at))
        try:
            commit(self.table, tx, remember.reservation if remember else None, remember.answer if remember else None)
        except CommitFailed as exc:
            taken = [posts[i - 1].id for i in sorted(exc.failed) if 1 <= i <= len(posts)]
            raise (IdsTaken(taken) if taken else StaleWrite()) from None

    def reject(self, container: Container, stamp: str, key_id: str, reason: str | None,
               events: ChangeEvents) -> None:
        names = {"#a": "approvalStatus"}
        values = {":rejected": "rejected", ":now": stamp, ":by": key_id, ":reason": reason, ":pending": "pending"}
        key = keys.container(container.id)
        expression = ("SET #a = :rejected, rejectedAt = :now, rejectedBy = :by, rejectionReason = :reason, "
                      "updatedAt = :now REMOVE pendingSchedule")
        condition = _same_stash(container, names, values)
        # Only the stash we read goes (with its chunks, in the same write).
        drops = stash_store.drop_items(self.table, container.id, container.pendingSchedule)
        raised = outbox.tx_put(self.table, events.change, events.organization_id, events.events, events.at)
        try:
            self.table.transact([self.table.tx_update(key, expression, names=names, values=values,
                                                      condition=condition), *drops, raised])
        except TransactionCanceled as exc:
            if exc.reasons[:1] == ["ConditionalCheckFailed"]:  # the container changed; else not ours to read
                raise StaleWrite() from None
            raise

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


def _same_stash(container: Container, names: dict[str, str], values: dict[str, Any]) -> str:
    """Still pending, with the very stash we planned: a schedule that replaced it
    meanwhile must not be dropped unpromoted."""
    condition = "#a = :pending"
    pending = container.pendingSchedule
    if not pending:
        return condition + " AND attribute_not_exists(pendingSchedule)"
    names["#ps"] = "pendingSchedule"
    values[":stashedAt"] = pending.get("stashedAt", "")
    condition += " AND #ps.stashedAt = :stashedAt"
    first = rules.stashed_ids(pending)[:1]
    if first:
        values[":first"] = first[0]
        condition += " AND #ps.targets[0].scheduledPostId = :first"
    return condition + " AND " + stash_store.same_chunks_condition(pending, names, values)


class DynamoProjects:
    def __init__(self, table: Table):
        self.table = table

    def get(self, project_id: str) -> Project | None:
        return items.from_item(Project, self.table.get(keys.project(project_id)))
