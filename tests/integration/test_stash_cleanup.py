"""A large stash's chunk items leave in the transaction that replaces or consumes
the stash (docs/adr/0021-stash-promotion.md): approve, reject, and a new
schedule on the pending container. A transaction that fails leaves them."""
from __future__ import annotations

import pytest

from layers_shared import aws
from layers_shared.models.requests import MAX_TARGETS
from layers_shared.store import stash_store
from layers_shared.store import keys
from tests.integration.test_contract_review import fresh_pending_container, gated_accounts
from tests.support import future


@pytest.fixture(scope="module")
def accounts(stack) -> list[str]:
    return gated_accounts(stack, MAX_TARGETS // 2)


def chunk_keys(stack, container: str) -> set[str]:
    """The PKs of every STASH# item of `container` (a scan: nothing can hide)."""
    client, found, start = aws.client("dynamodb"), set(), None
    while True:
        kwargs = {"TableName": stack.table.name, "FilterExpression": "begins_with(PK, :p)",
                  "ExpressionAttributeValues": {":p": {"S": f"STASH#{container}#"}}}
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = client.scan(**kwargs)
        found |= {item["PK"]["S"] for item in answer.get("Items", [])}
        start = answer.get("LastEvaluatedKey")
        if not start:
            return found


# The longest TikTok caption, in a character of three UTF-8 bytes: 50 of them
# make a stash of ~330 KB, over what stays on the container and over one chunk.
CAPTION = "\u4e2d" * 2200


def stash_large(api, stack, container: str, accounts: list[str], caption: str = CAPTION) -> list[str]:
    """A MAX_TARGETS-target stash too large for one item; returns the chunk PKs it wrote."""
    targets = [{"socialAccountId": a, "mode": mode, "captionOverride": caption}
               for a in accounts for mode in ("publish", "draft")]
    before = chunk_keys(stack, container)
    reply = api.schedule(container, targets, future(60))
    assert reply.status == 202, reply.body
    written = chunk_keys(stack, container) - before
    assert len(written) >= 2
    return sorted(written)


def test_approve_deletes_the_promoted_stash_chunks(api, stack, accounts):
    container = fresh_pending_container(stack)
    stash_large(api, stack, container, accounts)
    reply = api.post(f"/v1/content/{container}/approve", {})
    assert reply.status == 200 and reply.body["pendingSchedulePromotion"]["status"] == "ok", reply.body
    assert chunk_keys(stack, container) == set()


def test_reject_deletes_the_dropped_stash_chunks(api, stack, accounts):
    container = fresh_pending_container(stack)
    stash_large(api, stack, container, accounts)
    reply = api.post(f"/v1/content/{container}/reject", {"reason": "off-brand"})
    assert reply.status == 200 and len(reply.body["droppedScheduledPostIds"]) == MAX_TARGETS, reply.body
    assert chunk_keys(stack, container) == set()


def test_a_new_schedule_deletes_the_replaced_stash_chunks(api, stack, accounts):
    container = fresh_pending_container(stack)
    old = stash_large(api, stack, container, accounts)
    new = stash_large(api, stack, container, accounts, caption="\u6587" * 2200)
    assert chunk_keys(stack, container) == set(new) and not set(old) & set(new)
    # The newer stash is whole: approving it promotes every target with its text.
    reply = api.post(f"/v1/content/{container}/approve", {})
    assert reply.body["pendingSchedulePromotion"]["status"] == "ok", reply.body
    post = stack.table.get(keys.scheduled_post(reply.body["pendingSchedulePromotion"]["scheduledPostIds"][-1]))
    assert post["caption"] == "\u6587" * 2200


def test_a_small_stash_replacing_a_large_one_deletes_its_chunks(api, stack, accounts):
    container = fresh_pending_container(stack)
    stash_large(api, stack, container, accounts)
    reply = api.schedule(container, [{"socialAccountId": accounts[0], "mode": "publish"}], future(60))
    assert reply.status == 202, reply.body
    assert chunk_keys(stack, container) == set()


def _fail_transactions(monkeypatch):
    """Every TransactWriteItems gets a first item whose condition DynamoDB finds
    false (a check on an item that does not exist), standing for the container's
    own condition failing; the table then cancels the whole transaction."""
    from layers_shared.store.table import Table

    real = Table.transact

    def with_failing_check(self, tx):
        missing = self.tx_check(keys.key("NOPE", "stash-cleanup"), "attribute_exists(PK)")
        return real(self, [missing, *tx])

    monkeypatch.setattr(Table, "transact", with_failing_check)


@pytest.mark.parametrize("decision", ["approve", "reject", "schedule"])
def test_a_failed_transaction_leaves_the_chunks(api, stack, accounts, monkeypatch, decision):
    container = fresh_pending_container(stack)
    chunks = stash_large(api, stack, container, accounts)
    _fail_transactions(monkeypatch)
    if decision == "schedule":
        reply = api.schedule(container, [{"socialAccountId": accounts[0], "mode": "publish"}], future(60))
    else:
        body = {"reason": "no"} if decision == "reject" else {}
        reply = api.post(f"/v1/content/{container}/{decision}", body)
    assert reply.status == 409, reply.body
    monkeypatch.undo()
    assert chunk_keys(stack, container) == set(chunks)
    assert api.get(f"/v1/content/{container}").body["approvalStatus"] == "pending"


def test_the_largest_stash_fits_every_transaction_that_touches_it():
    """Worst case from the request limits: MAX_TARGETS targets whose every text
    field is at its maximum length of the character JSON widens most (a control
    character, written as a six-byte \\u escape)."""
    from datetime import datetime, timezone

    from layers_shared.models.requests import MAX_OVERRIDE

    widest = "\x01"
    targets = [{"socialAccountId": widest * 200, "mode": "managed", "captionOverride": widest * MAX_OVERRIDE,
                "firstCommentOverride": widest * MAX_OVERRIDE,
                "tiktokPostSettings": {"privacyLevel": "MUTUAL_FOLLOW_FRIENDS", "disableComment": False,
                                       "disableDuet": False, "disableStitch": False, "isBrandOrganic": False,
                                       "isBrandedContent": False},
                "tiktokMusic": {"mode": "manual", "trackId": "00000000-0000-4000-8000-000000000000"},
                "shareReelToFeed": False, "scheduledPostId": f"sp_00000000-0000-4000-8000-{i:012d}"}
               for i in range(MAX_TARGETS)]
    pending = {"scheduledFor": "2030-01-01T00:00:00.000000Z", "targets": targets, "apiKeyId": "K" * 64,
               "env": "test", "stashedAt": "2030-01-01T00:00:00.000000Z"}
    _inline, chunks = stash_store.split("cnt_00000000-0000-4000-8000-000000000000", pending,
                                        datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert len(chunks) <= stash_store.MAX_CHUNKS
    assert stash_store.MAX_TRANSACTION_ITEMS <= 100  # DynamoDB's TransactWriteItems limit
