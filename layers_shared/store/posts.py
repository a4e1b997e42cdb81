"""Scheduled posts in the single table: the DynamoDB side of the `Posts` port.

A post is `SP#<id>`; a project's posts sit on GSI1 (`PRJ#<id>#SP`, sorted by
`<scheduledFor>#<id>`), which is what a listing reads, newest first.
"""
from __future__ import annotations

from typing import Any, Iterable

from layers_shared.domain.ports import ChangeEvents, IdsTaken, PostListQuery, PostPage, Remember, StaleWrite
from layers_shared.models.entities import ScheduledPost
from layers_shared.store import items, keys
from layers_shared.store.idempotency import CommitFailed, commit
from layers_shared.store.table import Table
from layers_shared.webhooks import outbox

LIST_READ_BUDGET = 1000  # items a list request may evaluate (ADR 0042)
LIST_QUERY_CALLS = 5     # Query calls a list request may make (ADR 0042)
_FIRST_FILTERED_READ = 100  # a filtered scan's first Query reads at least this many items
_FILTER_READ_AHEAD = 4      # ... or this many per wanted match, then doubles


class DynamoPosts:
    def __init__(self, table: Table):
        self.table = table

    def get(self, post_id: str, *, consistent: bool = False) -> ScheduledPost | None:
        return items.from_item(ScheduledPost, self.table.get(keys.scheduled_post(post_id), consistent))

    def list_for_project(self, query: PostListQuery) -> PostPage:
        found, resume_after = _collect(self.table, query)
        return PostPage([ScheduledPost.model_validate(item) for item in found], resume_after)

    def taken(self, post_ids: Iterable[str]) -> set[str]:
        return {item["id"] for item in self.table.batch_get(keys.scheduled_post(i) for i in post_ids).values()}

    def create(self, posts: list[ScheduledPost], events: ChangeEvents, remember: Remember | None = None) -> None:
        """All rows, their events (one outbox item) and the idempotency record in one TransactWriteItems."""
        tx = [self.table.tx_put(items.to_item(p), condition="attribute_not_exists(PK)") for p in posts]
        tx.append(outbox.tx_put(self.table, events.change, events.organization_id, events.events, events.at))
        try:
            commit(self.table, tx, remember.reservation if remember else None, remember.answer if remember else None)
        except CommitFailed as exc:
            taken = [posts[i].id for i in sorted(exc.failed) if i < len(posts)]
            raise (IdsTaken(taken) if taken else StaleWrite()) from None

    # Reschedule and cancel are one write conditional on `status = queued`, so they can
    # never race the publisher's claim (docs/adr/0040-steering-posts.md).

    def reschedule(self, post: ScheduledPost, scheduled_for: str, stamp: str, events: ChangeEvents,
                   remember: Remember | None = None) -> None:
        # The post moves in both of its orders: the project listing (GSI1) and the work queue (GSI2).
        moved = items.to_item(post.model_copy(update={"status": "queued", "scheduledFor": scheduled_for}))
        self._steer(post.id, "SET scheduledFor = :when, GSI1SK = :g1, GSI2PK = :wq, GSI2SK = :wqsk, updatedAt = :now",
                    {":when": scheduled_for, ":g1": moved["GSI1SK"], ":wq": moved["GSI2PK"],
                     ":wqsk": moved["GSI2SK"], ":now": stamp}, events, remember)

    def cancel(self, post: ScheduledPost, stamp: str, reason: str | None, events: ChangeEvents,
               remember: Remember | None = None) -> None:
        expression = "SET #s = :canceled, canceledAt = :now, updatedAt = :now"
        values: dict[str, Any] = {":canceled": "canceled", ":now": stamp}
        if reason is not None:
            expression += ", cancelReason = :reason"
            values[":reason"] = reason
        # Leaving the work queue (sparse GSI2) is what keeps the sweeper away.
        expression += " REMOVE GSI2PK, GSI2SK"
        self._steer(post.id, expression, values, events, remember)

    def _steer(self, post_id: str, expression: str, values: dict[str, Any], events: ChangeEvents,
               remember: Remember | None) -> None:
        """One transaction: the update, its webhook events and, with an
        Idempotency-Key, the key's completion, so that a crash between them
        cannot turn a retry into a 409 or lose an event."""
        update = self.table.tx_update(keys.scheduled_post(post_id), expression, names={"#s": "status"},
                                      values={**values, ":queued": "queued"}, condition="#s = :queued")
        raised = outbox.tx_put(self.table, events.change, events.organization_id, events.events, events.at)
        try:
            commit(self.table, [update, raised], remember.reservation if remember else None,
                   remember.answer if remember else None)
        except CommitFailed:
            raise StaleWrite() from None


def _collect(table: Table, query: PostListQuery) -> tuple[list[dict[str, Any]], str | None]:
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
        batch, last = table.query(
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


def _filter_expression(query: PostListQuery) -> tuple[str | None, dict[str, str], dict[str, Any]]:
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
