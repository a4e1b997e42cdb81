"""Steering scheduled posts (reschedule, cancel) and listing them.

Reschedule and cancel are one conditional write on `status = queued` (with the
Idempotency-Key record in the same transaction when there is one), so they
can never race the publisher's claim: either the publisher claims first and
the partner gets `409 ALREADY_PUBLISHING`, or the partner's write lands first
and the publisher's claim (which re-checks status and `scheduledFor`) finds
nothing to do. No schedule surgery is needed (docs/adr/0040-steering-posts.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from pydantic import Field

from layers_shared import clock, ids
from layers_shared.clock import to_wire
from layers_shared.domain import lifecycle, pagination
from layers_shared.domain.errors import Conflict, ValidationFailed, issue
from layers_shared.domain.model_checks import require
from layers_shared.domain.ports import ChangeEvents, PostListQuery, Posts, Projects, Remember, StaleWrite
from layers_shared.domain.schedule import parse_scheduled_for
from layers_shared.models.entities import ScheduledPost
from layers_shared.models.requests import Strict
from layers_shared.scheduling import trigger
from layers_shared.services import queries
from layers_shared.webhooks import outbox

MAX_CANCEL_REASON = 1024
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_ATTEMPTS = 3  # a post that went back to queued under us is re-checked, not refused


class CancelBody(Strict):
    reason: str | None = Field(default=None, max_length=MAX_CANCEL_REASON)


@dataclass(frozen=True)
class Steered:
    """What a reschedule or a cancel did: the post's status after it, when
    (storage instant) and, for a reschedule, the new `scheduledFor`."""

    post_id: str
    status: str
    at: str
    scheduled_for: str | None = None


# With an Idempotency-Key, how the handler's answer to a result is kept with the change.
Remembering = Callable[[Steered], Remember]


# -- reschedule -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reschedule:
    post: queries.ById
    scheduled_for: datetime  # checked by parse_reschedule_body


def parse_reschedule_body(body: dict[str, Any], now: datetime) -> datetime:
    when, first = parse_scheduled_for(body.get("scheduledFor"), now)
    rest = [issue(name, "unknown_field", "unknown field") for name in body if name != "scheduledFor"]
    if first or rest:
        raise ValidationFailed(first + rest)
    assert when is not None
    return when


def reschedule(posts: Posts, command: Reschedule, now: datetime, remember: Remembering | None = None) -> Steered:
    post = queries.get_scheduled_post(posts, command.post, consistent=True)
    stamp, new_for = clock.to_storage(now), clock.to_storage(command.scheduled_for)
    done = Steered(post.id, "queued", stamp, new_for)
    change = f"{post.id}#rescheduled#{stamp}"
    events = ChangeEvents(change, post.organizationId, outbox.scheduled_events(
        change, [{**post.model_dump(mode="json"), "scheduledFor": new_for}], now), now)
    kept = remember(done) if remember else None
    _steer(posts, command.post, post, "be rescheduled",
           lambda current: posts.reschedule(current, new_for, stamp, events, kept))
    # The old slot stays: the publisher re-reads scheduledFor, so its firing does nothing.
    trigger.safely_schedule([post.model_copy(update={"scheduledFor": new_for, "updatedAt": stamp})])
    return done


# -- cancel ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cancel:
    post: queries.ById
    reason: str | None


def parse_cancel_body(body: dict[str, Any]) -> str | None:
    """The reason, if one was given."""
    return require(CancelBody, body).reason


def cancel(posts: Posts, command: Cancel, now: datetime, remember: Remembering | None = None) -> Steered:
    post = queries.get_scheduled_post(posts, command.post, consistent=True)
    stamp = clock.to_storage(now)
    done = Steered(post.id, "canceled", stamp)
    change = f"{post.id}#canceled"  # canceled once: the post names the change
    data = {**outbox.post_data(post.model_dump(mode="json")), "canceledAt": to_wire(stamp)}
    events = ChangeEvents(change, post.organizationId,
                          [outbox.event(change, 0, "post.canceled", data, post.projectId, now)], now)
    kept = remember(done) if remember else None
    _steer(posts, command.post, post, "be canceled",
           lambda current: posts.cancel(current, stamp, command.reason, events, kept))
    return done


# -- shared by reschedule and cancel --------------------------------------------------


def _steer(posts: Posts, query: queries.ById, post: ScheduledPost, action: str,
           write: Callable[[ScheduledPost], None]) -> None:
    """Write if the post is still queued, else Conflict with the reason."""
    current = post
    for _ in range(_ATTEMPTS):
        lifecycle.require_steerable(current.id, current.status, action)
        try:
            write(current)
            return
        except StaleWrite:
            # The publisher (or another call) got there first.
            current = queries.get_scheduled_post(posts, query, consistent=True)
    raise Conflict("CONCURRENT_UPDATE", f"Scheduled post {post.id} kept changing during this call; retry.",
                   scheduledPostId=post.id)


# -- list -----------------------------------------------------------------------------

_POSITION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#(sp_[0-9a-fA-F-]{36})$")


@dataclass(frozen=True)
class ListPosts:
    """A page of one project's posts: the project as the partner wrote it
    (`raw_project_id`; `project_id` None when it cannot be a prj_<uuid>) and
    the parsed query string (`parse_list_query`)."""

    organization_id: str
    project_id: str | None
    raw_project_id: str
    query: PostListQuery


@dataclass(frozen=True)
class PostListing:
    posts: list[ScheduledPost]
    next_cursor: str | None


def list_posts(posts: Posts, projects: Projects, command: ListPosts) -> PostListing:
    queries.get_project(projects, queries.ById(command.organization_id, command.project_id,
                                               command.raw_project_id))
    page = posts.list_for_project(command.query)
    resume = page.resume_after
    return PostListing(page.posts, pagination.encode({"sk": resume}, _digest(command.query)) if resume else None)


def _digest(query: PostListQuery) -> str:
    """What a cursor is bound to: every filter, not the position or the page size."""
    return pagination.query_digest({
        "project": query.project_id, "status": sorted(query.statuses), "sa": query.social_account_id,
        "cnt": query.container_id, "from": query.start, "to": query.end,
    })


def parse_list_query(query: Mapping[str, list[str]], project_id: str) -> PostListQuery:
    """Every query parameter at once (ValidationFailed names each bad one); unknown ones are ignored."""
    problems: list[dict[str, str]] = []
    statuses: list[str] = []
    for raw in query.get("status", []):
        for value in raw.split(","):
            if value not in lifecycle.STATUSES:
                problems.append(issue("status", "invalid_enum",
                                      f"'{value[:64]}' is not one of {', '.join(lifecycle.STATUSES)}"))
            elif value not in statuses:
                statuses.append(value)
    account = _id_filter(query, "socialAccountId", "sa", problems)
    container = _id_filter(query, "containerId", "cnt", problems)
    start = _instant_filter(query, "from", problems)
    end = _instant_filter(query, "to", problems)
    limit = DEFAULT_LIMIT
    try:
        limit = pagination.parse_limit(_one(query, "limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    except ValidationFailed as exc:
        problems += exc.issues
    if problems:
        raise ValidationFailed(problems)
    parsed = PostListQuery(project_id, tuple(statuses), account, container, start, end, limit, None)
    cursor = _one(query, "cursor")
    if cursor:
        after = pagination.decode(cursor, _digest(parsed)).get("sk", "")
        if not _POSITION.match(after):
            raise ValidationFailed([issue("cursor", "invalid_cursor", "not a cursor returned by this endpoint")])
        parsed = PostListQuery(project_id, tuple(statuses), account, container, start, end, limit, after)
    return parsed


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _id_filter(query: Mapping[str, list[str]], name: str, prefix: str, problems: list[dict[str, str]]) -> str | None:
    raw = _one(query, name)
    if raw is None:
        return None
    normalized = ids.normalize_path_id(raw, prefix)
    if normalized is None:
        problems.append(issue(name, "invalid_format", f"must be {prefix}_<uuid>"))
    return normalized


def _instant_filter(query: Mapping[str, list[str]], name: str, problems: list[dict[str, str]]) -> str | None:
    raw = _one(query, name)
    if raw is None:
        return None
    try:
        when = clock.parse_instant(raw)
    except clock.InstantError as exc:
        problems.append(issue(name, exc.code, str(exc)))
        return None
    return clock.to_storage(_ceil_ms(when))


def _ceil_ms(when: datetime) -> datetime:
    """Posts are stored to the millisecond: `t >= x` and `t < x` hold exactly
    when they hold against x rounded up to the next millisecond."""
    truncated = clock.truncate_ms(when)
    if truncated == when or truncated == datetime.max.replace(microsecond=999000, tzinfo=truncated.tzinfo):
        return truncated  # the last storable millisecond: nothing sorts after it anyway
    return truncated + timedelta(milliseconds=1)
