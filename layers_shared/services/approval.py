"""Approve (promoting a stashed schedule) and reject.

A stash was valid when it was accepted; the world may have moved since. So on
approve it is planned again with the same pure rules against what the table
holds now, and the container update, every post row and the idempotency
record go in one TransactWriteItems. When the stash no longer holds, approval
still happens, the stash is dropped and the answer says why, with no rows.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from layers_shared import clock, errors, idempotency
from layers_shared.domain import approval as rules
from layers_shared.domain import schedule as schedule_rules
from layers_shared.domain.errors import DomainError
from layers_shared.http.api import Request, Response
from layers_shared.domain.model_checks import require
from layers_shared.models.entities import Container, ScheduledPost
from layers_shared.models.requests import ApproveBody, RejectBody
from layers_shared.scheduling import trigger
from layers_shared.store import items, keys, repo, stash_store
from layers_shared.store.schedule_world import DynamoScheduleWorlds
from layers_shared.store.table import ConditionFailed, Table, TransactionCanceled
from layers_shared.webhooks import outbox

ATTEMPTS = 3  # a concurrent stash or decision: read again and decide again


class _ContainerChanged(Exception):
    pass


class _IdsTaken(Exception):
    def __init__(self, taken: list[str]):
        self.taken = taken


def approve(req: Request) -> Response:
    body = require(ApproveBody, req.json_body())
    principal = req.principal
    container = repo.container_of(req.table, req.principal.organization_id, req.path_id("containerId", "cnt"),
                                  req.path["containerId"])
    for _ in range(ATTEMPTS):
        if rules.approve_move(container) == "already":
            return Response(200, approved_view(container, None))
        now = clock.now()
        posts, promotion = plan_promotion(req.table, principal.organization_id, container, now)
        try:
            response = _approve_tx(req.table, container, posts, promotion, now, principal.key_id, body.note,
                                   req.reservation)
        except _ContainerChanged:
            container = _reread(req.table, container.id)
            continue
        promoted = response.body["pendingSchedulePromotion"]
        if promoted and promoted["status"] == "ok":
            trigger.safely_schedule(posts)
        return response
    raise errors.conflict("CONCURRENT_UPDATE", "The content container kept changing during this call; retry.")


def plan_promotion(table: Table, organization_id: str, container: Container,
                   now: datetime) -> tuple[list[ScheduledPost], dict[str, Any] | None]:
    """The rows a stash becomes now, or the failed block; (no rows, None) without a stash.

    The stashed `scheduledFor` is not checked against the clock again: a time
    that passed while waiting for approval publishes at once."""
    pending = container.pendingSchedule
    if not pending:
        return [], None
    try:
        intent, post_ids = schedule_rules.unstash(stash_store.load(table, container.id, pending))
        world, _project = DynamoScheduleWorlds(table).load(organization_id, container, intent)
        posts = schedule_rules.plan_posts(intent, world, env=str(pending.get("env", "test")),
                                          key_id=str(pending.get("apiKeyId", "")), now=now, post_ids=post_ids)
    # ApiError too, while load_world still raises the HTTP form: both carry code, message, details.
    except (errors.ApiError, DomainError) as error:
        return [], rules.promotion_failed(error)  # type: ignore[arg-type]
    except stash_store.StashLost:
        return [], rules.promotion_failed(errors.conflict(
            "STASH_EXPIRED", "The stashed schedule expired before approval; schedule again."))
    return posts, rules.promotion_ok([p.id for p in posts])


def _approve_tx(table: Table, container: Container, posts: list[ScheduledPost], promotion: dict[str, Any] | None,
                now: datetime, key_id: str, note: str | None, reservation: idempotency.Reservation | None) -> Response:
    """Commit; if a post id was taken meanwhile, commit the approval without rows."""
    try:
        return _commit_approval(table, container, posts, promotion, now, key_id, note, reservation)
    except _IdsTaken as taken:
        failed = rules.promotion_failed(errors.duplicate_id(taken.taken))
        return _commit_approval(table, container, [], failed, now, key_id, note, reservation)


def _commit_approval(table: Table, container: Container, posts: list[ScheduledPost],
                     promotion: dict[str, Any] | None, now: datetime, key_id: str, note: str | None,
                     reservation: idempotency.Reservation | None) -> Response:
    stamp = clock.to_storage(now)
    sets = ["#a = :approved", "approvedAt = :now", "approvedBy = :by", "updatedAt = :now"]
    values: dict[str, Any] = {":approved": "approved", ":now": stamp, ":by": key_id, ":pending": "pending"}
    if note is not None:
        sets.append("approvalNote = :note")
        values[":note"] = note
    names = {"#a": "approvalStatus"}
    tx = [table.tx_update(keys.container(container.id), "SET " + ", ".join(sets) + " REMOVE pendingSchedule",
                          names=names, values=values, condition=_same_stash(container, names, values))]
    tx += [table.tx_put(items.to_item(p), condition="attribute_not_exists(PK)") for p in posts]
    # After the posts: _transact maps failed indices 1..len(posts) to post ids.
    tx += stash_store.drop_items(table, container.id, container.pendingSchedule)
    # content.approved and the promoted rows' post.scheduled: approved once, so the container names the change.
    change = f"{container.id}#approved"
    events = [outbox.event(change, 0, "content.approved", {"id": container.id, "projectId": container.projectId,
                                                           "approvedAt": clock.to_wire(stamp), "approvedBy": key_id},
                           container.projectId, now)]
    events += outbox.scheduled_events(change, [p.model_dump(mode="json") for p in posts], now, first_index=1)
    tx.append(outbox.tx_put(table, change, container.organizationId, events, now))
    approved = container.model_copy(update={"approvalStatus": "approved", "approvedAt": stamp, "approvedBy": key_id})
    response = Response(200, approved_view(approved, promotion))
    _transact(table, tx, reservation, response, post_ids=[p.id for p in posts])
    return response


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


def _transact(table: Table, tx: list[dict[str, Any]], reservation: idempotency.Reservation | None, response: Response,
              post_ids: list[str]) -> None:
    """tx[0] is the container, tx[1..] the posts, then the idempotency record."""
    try:
        idempotency.commit(table, tx, reservation,
                           idempotency.StoredResponse(response.status, response.body, response.headers))
    except idempotency.CommitFailed as exc:
        taken = [post_ids[i - 1] for i in sorted(exc.failed) if 1 <= i <= len(post_ids)]
        if taken:
            raise _IdsTaken(taken) from None
        raise _ContainerChanged() from None


def reject(req: Request) -> Response:
    body = require(RejectBody, req.json_body())
    principal = req.principal
    container = repo.container_of(req.table, req.principal.organization_id, req.path_id("containerId", "cnt"),
                                  req.path["containerId"])
    for _ in range(ATTEMPTS):
        if rules.reject_move(container) == "already":
            return Response(200, rejected_view(container, []))
        stamp = clock.to_storage(clock.now())
        dropped = rules.stashed_ids(container.pendingSchedule)
        names = {"#a": "approvalStatus"}
        values = {":rejected": "rejected", ":now": stamp, ":by": principal.key_id, ":reason": body.reason,
                  ":pending": "pending"}
        try:
            # Only the stash we read goes (with its chunks, in the same write): one
            # written after our read is read again, so `dropped` names what was dropped.
            _update_dropping_chunks(
                req.table, keys.container(container.id),
                "SET #a = :rejected, rejectedAt = :now, rejectedBy = :by, rejectionReason = :reason, "
                "updatedAt = :now REMOVE pendingSchedule",
                names, values, _same_stash(container, names, values),
                stash_store.drop_items(req.table, container.id, container.pendingSchedule)
                + [_rejected_event(req.table, container, stamp, principal.key_id, body.reason)])
        except ConditionFailed:
            container = _reread(req.table, container.id)
            continue
        rejected = container.model_copy(update={"approvalStatus": "rejected", "rejectedAt": stamp,
                                                "rejectedBy": principal.key_id, "rejectionReason": body.reason})
        return Response(200, rejected_view(rejected, dropped))
    raise errors.conflict("CONCURRENT_UPDATE", "The content container kept changing during this call; retry.")


def _rejected_event(table: Table, container: Container, stamp: str, key_id: str,
                    reason: str | None) -> dict[str, Any]:
    change = f"{container.id}#rejected"  # rejected once: the container names the change
    now = clock.from_storage(stamp)
    assert now is not None
    data = {"id": container.id, "projectId": container.projectId, "rejectedAt": clock.to_wire(stamp),
            "rejectedBy": key_id, "reason": reason}
    return outbox.tx_put(table, change, container.organizationId,
                         [outbox.event(change, 0, "content.rejected", data, container.projectId, now)], now)


def _update_dropping_chunks(table: Table, key: dict[str, str], expression: str, names: dict[str, str],
                            values: dict[str, Any], condition: str, drops: list[dict[str, Any]]) -> None:
    """One UpdateItem, or with chunks to delete one TransactWriteItems (all or nothing)."""
    if not drops:
        table.update(key, expression, names=names, values=values, condition=condition)
        return
    try:
        table.transact([table.tx_update(key, expression, names=names, values=values, condition=condition), *drops])
    except TransactionCanceled as exc:
        if exc.reasons[:1] == ["ConditionalCheckFailed"]:
            raise ConditionFailed() from None
        raise


def _reread(table: Table, container_id: str) -> Container:
    found = items.from_item(Container, table.get(keys.container(container_id), consistent=True))
    if found is None:
        raise errors.not_found("Content container", container_id, containerId=container_id)
    return found


def approved_view(container: Container, promotion: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": container.id,
        "approvalStatus": "approved",
        "approvedAt": clock.to_wire(container.approvedAt),
        "approvedBy": container.approvedBy,
        "pendingSchedulePromotion": promotion,
    }


def rejected_view(container: Container, dropped: list[str]) -> dict[str, Any]:
    return {
        "id": container.id,
        "approvalStatus": "rejected",
        "rejectedAt": clock.to_wire(container.rejectedAt),
        "rejectedBy": container.rejectedBy,
        "rejectionReason": container.rejectionReason,
        "reason": container.rejectionReason,  # the name platform.md §8.3 documents
        "droppedScheduledPostIds": dropped,
    }
