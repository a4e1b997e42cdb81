"""Schedule and publish-now: validate everything, then one all-or-nothing write.

Without approval pending, the posts are written (with their `post.scheduled`
events and the Idempotency-Key's answer) and their slots are asked for; while
the project's approval is pending, the intent is stashed on the container
until someone approves it (services/approval.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from layers_shared import clock
from layers_shared.domain import schedule as rules
from layers_shared.domain.errors import Conflict, DuplicateId
from layers_shared.domain.ports import ChangeEvents, Containers, IdsTaken, Posts, Remember, ScheduleWorlds, StaleWrite
from layers_shared.models.entities import ScheduledPost
from layers_shared.scheduling import trigger
from layers_shared.services import queries
from layers_shared.webhooks import outbox


@dataclass(frozen=True)
class Schedule:
    content: queries.ById
    intent: rules.ScheduleIntent  # rules.parse_schedule_body
    publish_now: bool
    env: str      # of the API key: which world the posts go to
    key_id: str   # who scheduled them
    dry_run: bool = False


@dataclass(frozen=True)
class Scheduled:
    """The posts were written (`gate` "queued") or stashed awaiting approval."""

    post_ids: list[str]
    gate: str
    scheduled_for: str


@dataclass(frozen=True)
class DryRun:
    """Every check passed and nothing was written: what the real call would do."""

    gate: str
    scheduled_for: str
    posts: list[ScheduledPost]


@dataclass(frozen=True)
class Ports:
    containers: Containers
    posts: Posts
    worlds: ScheduleWorlds


def schedule(ports: Ports, command: Schedule, now: datetime,
             remember: Callable[[Scheduled], Remember] | None = None) -> Scheduled | DryRun:
    intent = command.intent
    container = queries.get_content(ports.containers, command.content)
    rules.check_container(container)
    world, project = ports.worlds.load(command.content.organization_id, container, intent, env=command.env)
    gate = rules.approval_gate(container, project, publish_now=command.publish_now)
    post_ids = rules.assign_ids(intent)
    posts = rules.plan_posts(intent, world, env=command.env, key_id=command.key_id, now=now, post_ids=post_ids)
    scheduled_for = clock.to_storage(intent.scheduled_for)
    if command.dry_run:
        return dry_run(ports.posts, intent, posts, gate, scheduled_for)
    done = Scheduled(post_ids, gate, scheduled_for)
    kept = remember(done) if remember else None
    if gate == "blocked_on_approval":
        pending = rules.stash(intent, post_ids, key_id=command.key_id, env=command.env, now=now)
        supplied = [p for p, t in zip(post_ids, intent.targets) if t.scheduledPostId]
        try:
            ports.containers.stash(container, pending, supplied, now, kept)
        except IdsTaken as taken:
            raise DuplicateId(taken.ids) from None
        except StaleWrite:
            raise Conflict("CONCURRENT_UPDATE", "The content container changed during this call; retry.") from None
        return done
    change = f"{posts[0].id}#scheduled"  # new rows: their ids name the change
    events = ChangeEvents(change, posts[0].organizationId,
                          outbox.scheduled_events(change, [p.model_dump(mode="json") for p in posts], now), now)
    try:
        ports.posts.create(posts, events, kept)
    except IdsTaken as taken:
        raise DuplicateId(taken.ids) from None
    except StaleWrite:
        raise Conflict("CONCURRENT_UPDATE", "The content container changed during this call; retry.") from None
    trigger.safely_schedule(posts)
    return done


def dry_run(posts: Posts, intent: rules.ScheduleIntent, planned: list[ScheduledPost], gate: str,
            scheduled_for: str) -> DryRun:
    """The one check left is the commit's: a partner-supplied id already taken."""
    supplied = [p.id for p, t in zip(planned, intent.targets) if t.scheduledPostId]
    taken = sorted(posts.taken(supplied)) if supplied else []
    if taken:
        raise DuplicateId(taken)
    return DryRun(gate, scheduled_for, planned)

