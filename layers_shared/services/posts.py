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
from typing import Any, Mapping

from pydantic import Field

from layers_shared import clock, errors, idempotency, ids
from layers_shared.clock import to_wire
from layers_shared.domain import lifecycle, pagination
from layers_shared.domain.errors import ValidationFailed, issue
from layers_shared.domain.ports import PostListQuery, Posts, Projects
from layers_shared.domain.schedule import parse_scheduled_for
from layers_shared.http.api import Request, Response
from layers_shared.domain.model_checks import require
from layers_shared.models.entities import ScheduledPost
from layers_shared.models.requests import Strict
from layers_shared.scheduling import trigger
from layers_shared.services import queries
from layers_shared.store import items, keys, repo
from layers_shared.store import posts as post_store
from layers_shared.store.table import ConditionFailed
from layers_shared.webhooks import outbox

MAX_CANCEL_REASON = 1024
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# How far one listing request may read is the DynamoDB adapter's business (ADR 0042).
LIST_READ_BUDGET, LIST_QUERY_CALLS = post_store.LIST_READ_BUDGET, post_store.LIST_QUERY_CALLS
_ATTEMPTS = 3  # a post that went back to queued under us is re-checked, not refused


class CancelBody(Strict):
    reason: str | None = Field(default=None, max_length=MAX_CANCEL_REASON)


# -- reschedule -----------------------------------------------------------------------


def reschedule(req: Request) -> Response:
    now = clock.now()
    when = _parse_reschedule_body(req.json_body(), now)
    post = _load(req)
    stamp, new_for = clock.to_storage(now), clock.to_storage(when)
    body = {"id": post.id, "status": "queued", "scheduledFor": to_wire(new_for), "updatedAt": to_wire(stamp)}
    moved = items.to_item(post.model_copy(update={"status": "queued", "scheduledFor": new_for}))
    change = f"{post.id}#rescheduled#{stamp}"
    event = outbox.tx_put(req.table, change, post.organizationId, outbox.scheduled_events(
        change, [{**post.model_dump(mode="json"), "scheduledFor": new_for}], now), now)
    _steer(req, post, "be rescheduled", Response(200, body),
           "SET scheduledFor = :when, GSI1SK = :g1, GSI2PK = :wq, GSI2SK = :wqsk, updatedAt = :now",
           {":when": new_for, ":g1": moved["GSI1SK"], ":wq": moved["GSI2PK"], ":wqsk": moved["GSI2SK"],
            ":now": stamp}, also=[event])
    # The old slot stays: the publisher re-reads scheduledFor, so its firing does nothing.
    trigger.safely_schedule([post.model_copy(update={"scheduledFor": new_for, "updatedAt": stamp})])
    return Response(200, body)


def _parse_reschedule_body(body: dict[str, Any], now: datetime) -> datetime:
    when, first = parse_scheduled_for(body.get("scheduledFor"), now)
    rest = [errors.issue(name, "unknown_field", "unknown field") for name in body if name != "scheduledFor"]
    if first or rest:
        raise errors.validation(first + rest)
    assert when is not None
    return when


# -- cancel ---------------------------------------------------------------------------


def cancel(req: Request) -> Response:
    now = clock.now()
    reason = require(CancelBody, req.json_body()).reason
    post = _load(req)
    stamp = clock.to_storage(now)
    body = {"id": post.id, "status": "canceled", "canceledAt": to_wire(stamp)}
    expression = "SET #s = :canceled, canceledAt = :now, updatedAt = :now"
    values: dict[str, Any] = {":canceled": "canceled", ":now": stamp}
    if reason is not None:
        expression += ", cancelReason = :reason"
        values[":reason"] = reason
    # Leaving the work queue (sparse GSI2) is what keeps the sweeper away.
    expression += " REMOVE GSI2PK, GSI2SK"
    change = f"{post.id}#canceled"  # canceled once: the post names the change
    data = {**outbox.post_data(post.model_dump(mode="json")), "canceledAt": to_wire(stamp)}
    event = outbox.tx_put(req.table, change, post.organizationId,
                          [outbox.event(change, 0, "post.canceled", data, post.projectId, now)], now)
    _steer(req, post, "be canceled", Response(200, body), expression, values, also=[event])
    return Response(200, body)


# -- shared by reschedule and cancel --------------------------------------------------


def _load(req: Request, consistent: bool = True) -> ScheduledPost:
    return repo.scheduled_post_in_path(req, consistent)


def _steer(req: Request, post: ScheduledPost, action: str, response: Response,
           expression: str, values: dict[str, Any], also: list[dict[str, Any]] | None = None) -> None:
    """Apply `expression` if the post is still queued, else 409 with the reason."""
    names = {"#s": "status"}
    values = {**values, ":queued": "queued"}
    condition = "#s = :queued"
    current = post
    for _ in range(_ATTEMPTS):
        lifecycle.require_steerable(current.id, current.status, action)
        try:
            _write(req, keys.scheduled_post(post.id), expression, names, values, condition, response, also)
            return
        except ConditionFailed:
            current = _load(req)  # the publisher (or another call) got there first
    raise errors.conflict("CONCURRENT_UPDATE", f"Scheduled post {post.id} kept changing during this call; retry.",
                          scheduledPostId=post.id)


def _write(req: Request, key: dict[str, str], expression: str, names: dict[str, str], values: dict[str, Any],
           condition: str, response: Response, also: list[dict[str, Any]] | None = None) -> None:
    """One UpdateItem; with an Idempotency-Key, one transaction that also
    completes the key, so a crash between the two cannot turn a retry into 409."""
    reservation = req.reservation
    if reservation is None and not also:
        req.table.update(key, expression, names=names, values=values, condition=condition)
        return
    # The change's webhook event (`also`) commits with it or not at all.
    tx = [req.table.tx_update(key, expression, names=names, values=values, condition=condition), *(also or [])]
    try:
        idempotency.commit(req.table, tx, reservation,
                           idempotency.StoredResponse(response.status, response.body, response.headers))
    except idempotency.CommitFailed:
        raise ConditionFailed() from None


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
