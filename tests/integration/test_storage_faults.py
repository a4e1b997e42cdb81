"""What a partner sees when DynamoDB misbehaves (issue 9, sequences 2 and 6).

- A transaction that committed but whose answer was lost: the retry with the
  same Idempotency-Key replays the first answer, never creates a second set.
- Throttling and transaction conflicts are `503 SERVICE_UNAVAILABLE` with
  `Retry-After`; a request DynamoDB rejects as invalid is a bug (500);
  `IDEMPOTENCY_*` reasons only ever describe an Idempotency-Key.
"""
from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from layers_shared.store.table import Table, TransactionCanceled
from tests.support import TIKTOK, VIDEO, assert_envelope, prj, project_post_rows


def _posts_of(stack, container: str) -> set[str]:
    return {i["id"] for i in project_post_rows(Table(), prj(1)) if i.get("containerId") == container}


@pytest.fixture
def commit_then_lose_answer(monkeypatch):
    """TransactWriteItems succeeds, then the client gives up waiting for its answer."""
    real = Table.transact
    lost = []

    def transact(self, items):
        real(self, items)
        if not lost:
            lost.append(len(items))
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    monkeypatch.setattr(Table, "transact", transact)
    return lost


def test_a_committed_schedule_whose_answer_was_lost_replays_on_retry(stack, api, commit_then_lose_answer):
    before = _posts_of(stack, VIDEO)
    key = str(uuid.uuid4())
    targets = [{"socialAccountId": TIKTOK, "mode": "publish"}]
    body = {"scheduledFor": "2027-01-01T10:00:00Z", "targets": targets}
    first = api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key})
    assert commit_then_lose_answer, "the fault did not fire"
    details = assert_envelope(first, 503, "SERVICE_UNAVAILABLE")
    assert first.header("Retry-After") and details["reason"] == "OUTCOME_UNKNOWN"
    created = _posts_of(stack, VIDEO) - before
    assert len(created) == 1  # the commit happened

    again = api.post(f"/v1/content/{VIDEO}/schedule", body, headers={"Idempotency-Key": key})
    assert again.status == 200 and again.header("Idempotent-Replayed") == "true", again.body
    assert set(again.body["scheduledPostIds"]) == created
    assert _posts_of(stack, VIDEO) - before == created  # no second set


def _cancel_with(monkeypatch, reasons: list[str]) -> None:
    def transact(self, items):
        raise TransactionCanceled([*(["None"] * (len(items) - 1)), *reasons][-len(items):])

    monkeypatch.setattr(Table, "transact", transact)


@pytest.mark.parametrize("reason", ["ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"])
@pytest.mark.parametrize("with_key", [True, False])
def test_throttles_and_conflicts_in_the_commit_are_503_with_retry_after(stack, api, monkeypatch, reason, with_key):
    _cancel_with(monkeypatch, [reason])
    headers = {"Idempotency-Key": str(uuid.uuid4())} if with_key else {}
    reply = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}], headers=headers)
    details = assert_envelope(reply, 503, "SERVICE_UNAVAILABLE")
    assert int(reply.header("Retry-After")) >= 1
    assert details["retryAfter"] == int(reply.header("Retry-After"))
    assert "IDEMPOTENCY" not in str(reply.body)
    if with_key:  # not stored: the retry runs
        monkeypatch.undo()
        retry = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}], headers=headers)
        assert retry.status == 200 and retry.header("Idempotent-Replayed") is None


def test_a_transaction_dynamodb_rejects_as_invalid_is_a_500(stack, api, monkeypatch):
    _cancel_with(monkeypatch, ["ValidationError"])
    reply = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}],
                         headers={"Idempotency-Key": str(uuid.uuid4())})
    assert_envelope(reply, 500, "INTERNAL")


def test_a_throttled_read_is_503_not_500(stack, api, monkeypatch):
    def throttled(self, key, consistent=False):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "GetItem")

    monkeypatch.setattr(Table, "get", throttled)
    reply = api.get(f"/v1/content/{VIDEO}")
    assert_envelope(reply, 503, "SERVICE_UNAVAILABLE")
    assert reply.header("Retry-After")


def test_only_an_in_progress_claim_is_released(stack):
    from layers_shared import idempotency
    from layers_shared.store import keys

    table = Table()
    scope = f"test#{uuid.uuid4()}"
    reservation = idempotency.begin(table, scope, "fp")
    assert isinstance(reservation, idempotency.Reservation)
    # Completed by a transaction whose answer this caller never saw:
    table.transact([reservation.completion_item(idempotency.StoredResponse(200, {"ok": True}, {}))])
    reservation.abandon()
    assert table.get(keys.idempotency(scope), consistent=True)["status"] == "completed"
    replay = idempotency.begin(table, scope, "fp")
    assert isinstance(replay, idempotency.StoredResponse) and replay.body == {"ok": True}
