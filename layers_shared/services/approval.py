"""Approve (promoting a stashed schedule) and reject.

A stash was valid when it was accepted; the world may have moved since. So on
approve it is planned again with the same pure rules against what is stored
now, and the container update, every post row and the idempotency record go
in one all-or-nothing write. When the stash no longer holds, approval still
happens, the stash is dropped and the answer says why, with no rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from layers_shared import clock
from layers_shared.domain import approval as rules
from layers_shared.domain import schedule as schedule_rules
from layers_shared.domain.errors import Conflict, DomainError, DuplicateId, NotFound
from layers_shared.domain.ports import (
    ChangeEvents, Containers, IdsTaken, Remember, ScheduleWorlds, StaleWrite, StashLost,
)
from layers_shared.models.entities import Container, ScheduledPost
from layers_shared.scheduling import trigger
from layers_shared.services import queries
from layers_shared.webhooks import outbox

ATTEMPTS = 3  # a concurrent stash or decision: read again and decide again


@dataclass(frozen=True)
class Decide:
    content: queries.ById
    key_id: str         # who decides
    text: str | None    # the approval note, or the rejection reason


@dataclass(frozen=True)
class Approved:
    container: Container                 # as approved
    promotion: dict[str, Any] | None     # the stash's fate: promoted posts or why not; None without a stash


@dataclass(frozen=True)
class Rejected:
    container: Container        # as rejected
    dropped: list[str]          # the stashed post ids that will never be


@dataclass(frozen=True)
class Ports:
    containers: Containers
    worlds: ScheduleWorlds


def approve(ports: Ports, command: Decide,
            remember: Callable[[Approved], Remember] | None = None) -> Approved:
    container = queries.get_content(ports.containers, command.content)
    for _ in range(ATTEMPTS):
        if rules.approve_move(container) == "already":
            return Approved(container, None)
        now = clock.now()
        posts, promotion = plan_promotion(ports, command.content.organization_id, container, now)
        try:
            done = _approve(ports.containers, container, posts, promotion, now, command, remember)
        except StaleWrite:
            container = _reread(ports.containers, container.id)
            continue
        if done.promotion and done.promotion["status"] == "ok":
            trigger.safely_schedule(posts)
        return done
    raise Conflict("CONCURRENT_UPDATE", "The content container kept changing during this call; retry.")


def plan_promotion(ports: Ports, organization_id: str, container: Container,
                   now: datetime) -> tuple[list[ScheduledPost], dict[str, Any] | None]:
    """The rows a stash becomes now, or the failed block; (no rows, None) without a stash.

    The stashed `scheduledFor` is not checked against the clock again: a time
    that passed while waiting for approval publishes at once."""
    pending = container.pendingSchedule
    if not pending:
        return [], None
    try:
        intent, post_ids = schedule_rules.unstash(ports.containers.stashed(container))
        world, _project = ports.worlds.load(organization_id, container, intent)
        posts = schedule_rules.plan_posts(intent, world, env=str(pending.get("env", "test")),
                                          key_id=str(pending.get("apiKeyId", "")), now=now, post_ids=post_ids)
    except DomainError as error:
        return [], rules.promotion_failed(error)
    except StashLost:
        return [], rules.promotion_failed(Conflict(
            "STASH_EXPIRED", "The stashed schedule expired before approval; schedule again."))
    return posts, rules.promotion_ok([p.id for p in posts])


def _approve(containers: Containers, container: Container, posts: list[ScheduledPost],
             promotion: dict[str, Any] | None, now: datetime, command: Decide,
             remember: Callable[[Approved], Remember] | None) -> Approved:
    """Commit; if a post id was taken meanwhile, commit the approval without rows."""
    try:
        return _commit_approval(containers, container, posts, promotion, now, command, remember)
    except IdsTaken as taken:
        failed = rules.promotion_failed(DuplicateId(taken.ids))
        return _commit_approval(containers, container, [], failed, now, command, remember)


def _commit_approval(containers: Containers, container: Container, posts: list[ScheduledPost],
                     promotion: dict[str, Any] | None, now: datetime, command: Decide,
                     remember: Callable[[Approved], Remember] | None) -> Approved:
    stamp, key_id = clock.to_storage(now), command.key_id
    # content.approved and the promoted rows' post.scheduled: approved once, so the container names the change.
    change = f"{container.id}#approved"
    events = [outbox.event(change, 0, "content.approved", {"id": container.id, "projectId": container.projectId,
                                                           "approvedAt": clock.to_wire(stamp), "approvedBy": key_id},
                           container.projectId, now)]
    events += outbox.scheduled_events(change, [p.model_dump(mode="json") for p in posts], now, first_index=1)
    approved = container.model_copy(update={"approvalStatus": "approved", "approvedAt": stamp, "approvedBy": key_id})
    done = Approved(approved, promotion)
    containers.approve(container, stamp, key_id, command.text, posts, promotion,
                       ChangeEvents(change, container.organizationId, events, now),
                       remember(done) if remember else None)
    return done


def reject(containers: Containers, command: Decide) -> Rejected:
    container = queries.get_content(containers, command.content)
    for _ in range(ATTEMPTS):
        if rules.reject_move(container) == "already":
            return Rejected(container, [])
        now = clock.truncate_ms(clock.now())
        stamp = clock.to_storage(now)
        dropped = rules.stashed_ids(container.pendingSchedule)
        change = f"{container.id}#rejected"  # rejected once: the container names the change
        data = {"id": container.id, "projectId": container.projectId, "rejectedAt": clock.to_wire(stamp),
                "rejectedBy": command.key_id, "reason": command.text}
        events = ChangeEvents(change, container.organizationId,
                              [outbox.event(change, 0, "content.rejected", data, container.projectId, now)], now)
        try:
            # Only the stash we read goes: one written after our read is read again,
            # so `dropped` names what was dropped.
            containers.reject(container, stamp, command.key_id, command.text, events)
        except StaleWrite:
            container = _reread(containers, container.id)
            continue
        rejected = container.model_copy(update={"approvalStatus": "rejected", "rejectedAt": stamp,
                                                "rejectedBy": command.key_id, "rejectionReason": command.text})
        return Rejected(rejected, dropped)
    raise Conflict("CONCURRENT_UPDATE", "The content container kept changing during this call; retry.")


def _reread(containers: Containers, container_id: str) -> Container:
    found = containers.get(container_id, consistent=True)
    if found is None:
        raise NotFound("Content container", container_id, containerId=container_id)
    return found
