"""Scheduled posts in the single table: the DynamoDB side of the `Posts` port.

A post is `SP#<id>`; a project's posts sit on GSI3 (`PRJ#<id>#SP`, sorted by
`<scheduledFor>#<id>`), which is what a listing reads, newest first. GSI3 holds
keys only, so publishing a post (claim, leases, outcomes) writes nothing there;
a listing reads the keys, then the items (docs/adr/0043).
"""
from __future__ import annotations

from typing import Any, Iterable

from layers_shared.domain.ports import ChangeEvents, IdsTaken, PostListQuery, PostPage, Remember, StaleWrite
from layers_shared.models.entities import ScheduledPost
from layers_shared.store import items, keys
from layers_shared.store.idempotency import CommitFailed, commit
from layers_shared.store.table import Table
from layers_shared.webhooks import outbox

LISTING_INDEX = "GSI3"
LIST_KEY_BUDGET = 1000   # listing keys a list request may evaluate (ADR 0042, 0043)
LIST_QUERY_CALLS = 5     # Query calls a list request may make (ADR 0042)
BATCH_GET_KEYS = 100     # BatchGetItem's own maximum
# BatchGetItem calls a list request may make (ADR 0043): one per 100 keys evaluated, and one for the page.
LIST_BATCH_GETS = LIST_KEY_BUDGET // BATCH_GET_KEYS + 1
# What a filter reads of each item it evaluates: a filtered scan fetches whole items only for its page.
_FILTERED_ATTRIBUTES = ("status", "socialAccountId", "containerId")
_FIRST_FILTERED_READ = 100  # a filtered scan's first Query reads at least this many keys
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
        # The post moves in both of its orders: the project listing (GSI3) and the work queue (GSI2).
        # GSI3PK is written again so that a post stored before GSI3 existed joins the listing.
        moved = items.to_item(post.model_copy(update={"status": "queued", "scheduledFor": scheduled_for}))
        self._steer(post.id, "SET scheduledFor = :when, GSI3PK = :lp, GSI3SK = :ls, GSI2PK = :wq, GSI2SK = :wqsk, "
                    "updatedAt = :now",
                    {":when": scheduled_for, ":lp": moved["GSI3PK"], ":ls": moved["GSI3SK"], ":wq": moved["GSI2PK"],
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
    """Up to `limit` items, newest scheduledFor first, and the GSI3SK to resume
    after (None when the partition holds nothing more for this query).

    The index holds keys only: each Query reads positions, BatchGetItem the
    items behind them, and the filters are applied here. A filter can reject
    every item, so the scan is cut at LIST_KEY_BUDGET keys evaluated (the sum
    of the Query `Limit`s) or LIST_QUERY_CALLS Queries, whichever comes first;
    the page may then be short, even empty, and the cursor resumes at the last
    key evaluated. Reads one match past the page so that a page that ends the
    partition says `nextCursor: null` instead of pointing at an empty page;
    without filters, the key past the page is enough and its item is not read.

    A filtered scan reads only the filtered attributes of the items it
    evaluates (up to 1,000, 100 per BatchGetItem), then the whole items of its
    page (one more BatchGetItem): the transfer stays the page's, not the scan's."""
    if query.start is not None and query.end is not None and query.start >= query.end:
        return [], None
    sort_condition, sort_values = None, {}
    if query.start is not None and query.end is not None:
        # GSI3SK is `<scheduledFor>#<id>`: `<to>#…` sorts after `<to>`, so BETWEEN excludes `to`.
        sort_condition, sort_values = "#sk BETWEEN :lo AND :hi", {":lo": query.start, ":hi": query.end}
    elif query.start is not None:
        sort_condition, sort_values = "#sk >= :lo", {":lo": query.start}
    elif query.end is not None:
        sort_condition, sort_values = "#sk < :hi", {":hi": query.end}
    filtered = bool(query.statuses) or query.social_account_id is not None or query.container_id is not None
    partition = keys.project_posts(query.project_id)
    start: dict[str, Any] | None = None
    if query.after is not None:
        post_id = query.after.split("#", 1)[1]
        start = {"GSI3PK": partition, "GSI3SK": query.after, **keys.scheduled_post(post_id)}
    limit = query.limit
    found: list[tuple[str, dict[str, Any]]] = []  # (position, the item or, filtered, its filtered attributes)
    fetched: dict[tuple[str, str], dict[str, Any]] = {}
    keys_left = LIST_KEY_BUDGET
    # Filtered Queries read whole BatchGetItem calls (multiples of 100 keys), so
    # the key budget is also what bounds the BatchGetItem calls.
    size = max(_whole_batches(4 * (limit + 1)), _FIRST_FILTERED_READ) if filtered else limit + 1
    evaluated: str | None = None  # position of the last key whose item was evaluated
    resume: str | None = None
    for _ in range(LIST_QUERY_CALLS):
        read = min(keys_left, size if filtered else limit + 1 - len(found))
        listed, last = table.query(LISTING_INDEX, "GSI3PK", partition, sort_name="GSI3SK",
                                   sort_condition=sort_condition, sort_values=sort_values, forward=False,
                                   start=start, limit=read)
        keys_left -= read
        for n, key in enumerate(listed):
            if not filtered and len(found) == limit:
                return [item for _, item in found], found[-1][0]  # a key past a full page: there is more
            if (key["PK"], key["SK"]) not in fetched:
                ahead = listed[n:n + (BATCH_GET_KEYS if filtered else limit - len(found))]
                fetched.update(table.batch_get(({"PK": k["PK"], "SK": k["SK"]} for k in ahead),
                                               _FILTERED_ATTRIBUTES if filtered else None))
            evaluated = key["GSI3SK"]
            item = fetched.get((key["PK"], key["SK"]))  # None: deleted since the Query
            if item is not None and _matches(item, query):
                found.append((evaluated, item))
                if len(found) > limit:
                    break
        if len(found) > limit:
            found, resume = found[:limit], found[limit - 1][0]
            break
        if last is None:
            break
        if not listed:
            evaluated = last["GSI3SK"]
        if keys_left <= 0:
            resume = evaluated  # the budget ended first: resume after the last key evaluated, matched or not
            break
        start = last
        size *= 2  # a sparse filter: read further each round, within the budget
    else:
        resume = evaluated
    if not filtered:
        return [item for _, item in found], resume
    # The page's whole items. One that changed or vanished since it matched is left out:
    # the page is one shorter, the cursor still where the scan stopped.
    whole = table.batch_get({"PK": item["PK"], "SK": item["SK"]} for _, item in found) if found else {}
    page = [whole.get((item["PK"], item["SK"])) for _, item in found]
    return [item for item in page if item is not None and _matches(item, query)], resume


def _whole_batches(count: int) -> int:
    return -(-count // BATCH_GET_KEYS) * BATCH_GET_KEYS


def _matches(item: dict[str, Any], query: PostListQuery) -> bool:
    return ((not query.statuses or item.get("status") in query.statuses)
            and (query.social_account_id is None or item.get("socialAccountId") == query.social_account_id)
            and (query.container_id is None or item.get("containerId") == query.container_id))
