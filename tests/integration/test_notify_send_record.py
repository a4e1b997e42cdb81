"""The notify-device send record: created before the first send, one holder at a
time, a finished record answers instead of sending (moto table)."""
from __future__ import annotations

import pytest

from layers_shared import clock, errors
from layers_shared.domain.handoff import Progress
from layers_shared.services import send_record as records


@pytest.fixture(scope="module")
def table():
    from local import aws_world
    from layers_shared.store.table import Table

    mock = aws_world.start("notify-record-test")
    yield Table("notify-record-test")
    mock.stop()
    from layers_shared import aws

    aws.reset()  # no client bound to this moto world outlives it


@pytest.fixture(autouse=True)
def real_clock():
    yield
    clock.set_now(None)


def key(n: str) -> dict[str, str]:
    return records.record_key("org_1", "cnt_1", "+15551234567", n)


def test_scope_follows_the_idempotency_key_and_the_api_key():
    a = records.request_scope("KEY1", "idem", "req_1")
    assert a == records.request_scope("KEY1", "idem", "req_2")
    assert a != records.request_scope("KEY2", "idem", "req_1")
    assert records.request_scope("KEY1", None, "req_1") != records.request_scope("KEY1", None, "req_2")


def test_the_first_open_creates_a_second_is_refused_while_the_lease_lives(table):
    record, created = records.open_record(table, key("a"), {"id": "r1"}, "tok1")
    assert created and record["status"] == records.SENDING and record["id"] == "r1"
    with pytest.raises(errors.ApiError) as busy:
        records.open_record(table, key("a"), {"id": "r2"}, "tok2")
    assert busy.value.status == 409 and busy.value.details["reason"] == "IDEMPOTENCY_IN_PROGRESS"


def test_a_failed_record_is_taken_over_with_its_progress(table):
    records.open_record(table, key("b"), {"id": "r1"}, "tok1")
    records.mark_accepted(table, key("b"), "tok1", 1, "m1", chat_id="chat-1")
    records.mark_failed(table, key("b"), "tok1", records.REJECTED, provider_error="no")
    record, created = records.open_record(table, key("b"), {"id": "other"}, "tok2")
    assert not created
    assert record["id"] == "r1" and record["message1"] == "m1" and record["chatId"] == "chat-1"
    assert record["status"] == records.SENDING and record["leaseToken"] == "tok2"


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_stopped(table):
    records.open_record(table, key("c"), {"id": "r1"}, "tok1")
    clock.set_now(clock.plus(clock.now(), seconds=records.LEASE_SECONDS + 1))
    record, created = records.open_record(table, key("c"), {"id": "r2"}, "tok2")
    assert not created and record["leaseToken"] == "tok2"
    with pytest.raises(errors.ApiError):
        records.mark_accepted(table, key("c"), "tok1", 1, "m1")  # the old holder may not write any more


def test_a_sent_record_is_returned_as_it_is(table):
    records.open_record(table, key("d"), {"id": "r1"}, "tok1")
    for i in (1, 2, 3):
        records.mark_accepted(table, key("d"), "tok1", i, f"m{i}", chat_id="chat-1" if i == 1 else None, last=i == 3)
    record, created = records.open_record(table, key("d"), {"id": "r2"}, "tok2")
    assert not created and record["status"] == records.SENT and "leaseToken" not in record
    assert [record[f"message{i}"] for i in (1, 2, 3)] == ["m1", "m2", "m3"]


def test_the_first_chat_id_stays_unless_replaced(table):
    assert records.remember_chat(table, "linq", "org_1", "+15550001111", "chat-a") == "chat-a"
    assert records.remember_chat(table, "linq", "org_1", "+15550001111", "chat-b") == "chat-a"
    assert records.stored_chat(table, "linq", "org_1", "+15550001111") == "chat-a"
    assert records.stored_chat(table, "sandbox", "org_1", "+15550001111") is None
    records.remember_chat(table, "linq", "org_1", "+15550001111", "chat-c", replaces="chat-a")
    assert records.stored_chat(table, "linq", "org_1", "+15550001111") == "chat-c"


def test_each_message_is_recorded_as_attempted_before_it_is_sent(table):
    """The put names message 1; each acceptance names the next one in the same
    write, so no send ever happens while the record does not name it."""
    record, _ = records.open_record(table, key("e"), {"id": "r1"}, "tok1")
    assert record["attempting"] == 1 and record["firstAttemptAt"] == record["createdAt"]
    first = records.first_attempt(record)
    for i in (1, 2):
        records.mark_accepted(table, key("e"), "tok1", i, f"m{i}", chat_id="chat-1" if i == 1 else None)
        stored = table.get(key("e"), consistent=True)
        assert stored["attempting"] == i + 1 and stored[f"message{i}"] == f"m{i}"
    records.mark_accepted(table, key("e"), "tok1", 3, "m3", last=True)
    done = table.get(key("e"), consistent=True)
    assert "attempting" not in done and records.first_attempt(done) == first


def test_a_resumed_record_reads_back_the_message_it_was_attempting(table):
    records.open_record(table, key("f"), {"id": "r1"}, "tok1")
    records.mark_accepted(table, key("f"), "tok1", 1, "m1", chat_id="chat-1")
    clock.set_now(clock.plus(clock.now(), seconds=records.LEASE_SECONDS + 1))  # the holder died
    record, created = records.open_record(table, key("f"), {"id": "r2"}, "tok2")
    assert not created
    assert Progress.of(record).unconfirmed == 2
    fresh, created = records.open_record(table, key("g"), {"id": "r3"}, "tok3")
    assert created and Progress.of(fresh, resumed=False).unconfirmed is None
