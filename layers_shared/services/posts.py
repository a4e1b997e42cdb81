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
from typing import Any

from pydantic import Field

from layers_shared import clock, errors, idempotency, ids, views
from layers_shared.clock import to_wire
from layers_shared.domain import lifecycle, pagination
from layers_shared.domain.schedule import parse_scheduled_for
from layers_shared.http.api import Request, Response
from layers_shared.http.validation import require
from layers_shared.models.entities import ScheduledPost
from layers_shared.models.requests import Strict
from layers_shared.scheduling import trigger
from layers_shared.store import items, keys, repo
from layers_shared.store.table import ConditionFailed
from layers_shared.webhooks import outbox

MAX_CANCEL_REASON = 1024
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
LIST_READ_BUDGET = 1000  # items a list request may evaluate (ADR 0042)
LIST_QUERY_CALLS = 5     # Query calls a list request may make (ADR 0042)
_FIRST_FILTERED_READ = 100  # a filtered scan's first Query reads at least this many items
_FILTER_READ_AHEAD = 4      # ... or this many per wanted match, then doubles
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
    claim = req.claim
    if claim is None and not also:
        req.table.update(key, expression, names=names, values=values, condition=condition)
        return
    # The change's webhook event (`also`) commits with it or not at all.
    tx = [req.table.tx_update(key, expression, names=names, values=values, condition=condition), *(also or [])]
    try:
        idempotency.commit(req.table, tx, claim,
                           idempotency.StoredResponse(response.status, response.body, response.headers))
    except idempotency.CommitFailed:
        raise ConditionFailed() from None


# -- list -----------------------------------------------------------------------------

_POSITION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#(sp_[0-9a-fA-F-]{36})$")


@dataclass(frozen=True)
class ListQuery:
    project_id: str
    statuses: tuple[str, ...]
    social_account_id: str | None
    container_id: str | None
    start: str | None  # storage form, inclusive
    end: str | None    # storage form, exclusive
    limit: int
    after: str | None  # GSI1SK of the last item of the previous page

    def digest(self) -> str:
        return pagination.query_digest({
            "project": self.project_id, "status": sorted(self.statuses), "sa": self.social_account_id,
            "cnt": self.container_id, "from": self.start, "to": self.end,
        })


def list_posts(req: Request) -> Response:
    raw_project = req.path["projectId"]
    project_id = req.path_id("projectId", "prj")
    query = parse_list_query(req, project_id or raw_project)
    repo.project_of(req.table, req.principal.organization_id, project_id, raw_project)
    found, resume_after = _collect(req, query)
    page = [views.scheduled_post(ScheduledPost.model_validate(item)) for item in found]
    next_cursor = pagination.encode({"sk": resume_after}, query.digest()) if resume_after else None
    return Response(200, {"items": page, "nextCursor": next_cursor})


def parse_list_query(req: Request, project_id: str) -> ListQuery:
    """Every query parameter at once; unknown ones are ignored."""
    problems: list[dict[str, str]] = []
    statuses: list[str] = []
    for raw in req.query.get("status", []):
        for value in raw.split(","):
            if value not in lifecycle.STATUSES:
                problems.append(errors.issue("status", "invalid_enum",
                                             f"'{value[:64]}' is not one of {', '.join(lifecycle.STATUSES)}"))
            elif value not in statuses:
                statuses.append(value)
    account = _id_filter(req, "socialAccountId", "sa", problems)
    container = _id_filter(req, "containerId", "cnt", problems)
    start = _instant_filter(req, "from", problems)
    end = _instant_filter(req, "to", problems)
    limit = DEFAULT_LIMIT
    try:
        limit = pagination.parse_limit(req.query_one("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    except errors.ApiError as exc:
        problems += exc.details["issues"]
    if problems:
        raise errors.validation(problems)
    query = ListQuery(project_id, tuple(statuses), account, container, start, end, limit, None)
    cursor = req.query_one("cursor")
    if cursor:
        position = pagination.decode(cursor, query.digest())
        after = position.get("sk", "")
        if not _POSITION.match(after):
            raise errors.validation([errors.issue("cursor", "invalid_cursor", "not a cursor returned by this endpoint")])
        query = ListQuery(project_id, tuple(statuses), account, container, start, end, limit, after)
    return query


def _id_filter(req: Request, name: str, prefix: str, problems: list[dict[str, str]]) -> str | None:
    raw = req.query_one(name)
    if raw is None:
        return None
    normalized = ids.normalize_path_id(raw, prefix)
    if normalized is None:
        problems.append(errors.issue(name, "invalid_format", f"must be {prefix}_<uuid>"))
    return normalized


def _instant_filter(req: Request, name: str, problems: list[dict[str, str]]) -> str | None:
    raw = req.query_one(name)
    if raw is None:
        return None
    try:
        when = clock.parse_instant(raw)
    except clock.InstantError as exc:
        problems.append(errors.issue(name, exc.code, str(exc)))
        return None
    return clock.to_storage(_ceil_ms(when))


def _ceil_ms(when: datetime) -> datetime:
    """Posts are stored to the millisecond: `t >= x` and `t < x` hold exactly
    when they hold against x rounded up to the next millisecond."""
    truncated = clock.truncate_ms(when)
    if truncated == when or truncated == datetime.max.replace(microsecond=999000, tzinfo=truncated.tzinfo):
        return truncated  # the last storable millisecond: nothing sorts after it anyway
    return truncated + timedelta(milliseconds=1)


def _collect(req: Request, query: ListQuery) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `limit` items, newest scheduledFor first, and the GSI1SK to resume
    after (None when the partition holds nothing more for this query).

    A filter can reject every item, so the scan is cut at LIST_READ_BUDGET items
    evaluated (the sum of the Query `Limit`s, an upper bound of what DynamoDB
    reads) or LIST_QUERY_CALLS calls, whichever comes first; the page may then
    be short, even empty, and the cursor resumes at the last item evaluated.
    Reads one match past the page so that a page that ends the partition says
    `nextCursor: null` instead of pointing at an empty page."""
    if query.start is not None and query.end is not None and query.start >= query.end:
        return [], None
    sort_condition, sort_values = None, {}
    if query.start is not None and query.end is not None:
        # GSI1SK is `<scheduledFor>#<id>`: `<to>#…` sorts after `<to>`, so BETWEEN excludes `to`.
        sort_condition, sort_values = "#sk BETWEEN :lo AND :hi", {":lo": query.start, ":hi": query.end}
    elif query.start is not None:
        sort_condition, sort_values = "#sk >= :lo", {":lo": query.start}
    elif query.end is not None:
        sort_condition, sort_values = "#sk < :hi", {":hi": query.end}
    filters, names, values = _filter_expression(query)
    partition = keys.project_posts(query.project_id)
    start: dict[str, Any] | None = None
    if query.after is not None:
        post_id = query.after.split("#", 1)[1]
        start = {"GSI1PK": partition, "GSI1SK": query.after, **keys.scheduled_post(post_id)}
    wanted = query.limit + 1
    found: list[dict[str, Any]] = []
    budget = LIST_READ_BUDGET
    size = max(wanted * _FILTER_READ_AHEAD, _FIRST_FILTERED_READ) if filters else wanted
    last: dict[str, Any] | None = None
    for _ in range(LIST_QUERY_CALLS):
        read = min(budget, size if filters else wanted - len(found))
        batch, last = req.table.query(
            "GSI1", "GSI1PK", partition, sort_name="GSI1SK", sort_condition=sort_condition,
            sort_values=sort_values, forward=False, start=start, limit=read,
            filter_expression=filters, filter_names=names, filter_values=values,
        )
        budget -= read
        found += batch
        if len(found) >= wanted or last is None or budget <= 0:
            break
        start = last
        size *= 2  # a sparse filter: read further each round, within the budget
    if len(found) > query.limit:
        return found[:query.limit], found[query.limit - 1]["GSI1SK"]
    # Short page: either the partition ended, or the budget did and the scan
    # resumes after the last item evaluated (matched or not).
    return found, (last["GSI1SK"] if last is not None else None)


def _filter_expression(query: ListQuery) -> tuple[str | None, dict[str, str], dict[str, Any]]:
    parts: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if query.statuses:
        names["#st"] = "status"
        placeholders = []
        for i, status in enumerate(query.statuses):
            values[f":st{i}"] = status
            placeholders.append(f":st{i}")
        parts.append(f"#st IN ({', '.join(placeholders)})")
    if query.social_account_id is not None:
        names["#sa"] = "socialAccountId"
        values[":sa"] = query.social_account_id
        parts.append("#sa = :sa")
    if query.container_id is not None:
        names["#cn"] = "containerId"
        values[":cn"] = query.container_id
        parts.append("#cn = :cn")
    return (" AND ".join(parts) or None), names, values
