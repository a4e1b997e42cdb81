"""The `SendRecords` port: the DynamoDB adapter (on the package's moto table)
and the in-memory fake hold a device handoff's send record alike. Who holds
it, when it can be taken over, what a takeover keeps and which writes a
holder whose lease ran out may still make decide whether a text is ever sent
twice (docs/adr/0051, 0056), so each test runs on both."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from layers_shared import clock
from layers_shared.domain import handoff
from layers_shared.domain.handoff import LEASE_SECONDS, Progress
from layers_shared.domain.ports import HandoffKey, NewSendRecord, StaleWrite
from tests.unit.store.frozen_clock import frozen, later  # noqa: F401 (frozen: an autouse fixture)

PLAN = [[{"type": "media", "value": "https://m.example/1.jpg"}], [{"type": "text", "value": "Morning pour"}],
        [{"type": "text", "value": "1. Save\n2. Post"}]]


@pytest.fixture(params=["dynamodb", "memory"])
def records(request: pytest.FixtureRequest) -> Any:
    if request.param == "dynamodb":
        from layers_shared.store.send_records import DynamoSendRecords

        return DynamoSendRecords(request.getfixturevalue("moto_table"))
    from tests.fakes.send_records import InMemorySendRecords

    return InMemorySendRecords()


@pytest.fixture
def key() -> HandoffKey:
    """A record of its own per test: the moto table is shared by the whole package."""
    return HandoffKey("org_1", "cnt_1", "+15551234567", f"idem-{uuid.uuid4().hex}")


def new(ident: str = "r1", position: tuple[str, str] | None = None) -> NewSendRecord:
    return NewSendRecord(ident, "linq", "KEY1", PLAN, position)


def test_the_first_open_creates_it_held_and_attempting_message_1(records, key):
    record, created = records.open(key, new(), "tok1")
    assert created and record.status == handoff.SENDING and record.holder == "tok1"
    assert record.id == "r1" and record.plan == PLAN and record.messages == {} and record.chat_id is None
    assert record.attempting == 1 and record.unconfirmed is None and record.position is None
    assert record.first_attempt_at == clock.to_storage(clock.now())
    assert records.get(key) == record


def test_a_second_open_is_refused_while_the_lease_lives_up_to_its_last_second(records, key):
    records.open(key, new(), "tok1")
    with pytest.raises(StaleWrite):
        records.open(key, new("r2"), "tok2")
    later(LEASE_SECONDS)
    with pytest.raises(StaleWrite):
        records.open(key, new("r2"), "tok2")
    assert records.get(key).holder == "tok1"


def test_an_expired_lease_is_taken_over_and_the_old_holder_may_write_nothing_more(records, key):
    records.open(key, new(), "tok1")
    records.accepted(key, "tok1", 1, "m1", chat_id="chat-1")
    later(LEASE_SECONDS + 1)  # the holder died
    record, created = records.open(key, new("r2"), "tok2")
    assert not created and record.holder == "tok2" and record.id == "r1" and record.messages == {1: "m1"}
    assert Progress.of(record).unconfirmed == 2  # it was attempting message 2: read it back first
    with pytest.raises(StaleWrite):
        records.accepted(key, "tok1", 2, "m2")
    with pytest.raises(StaleWrite):
        records.mark_position(key, "tok1", "chat-1", "m1")
    with pytest.raises(StaleWrite):
        records.stopped(key, "tok1", handoff.REJECTED)
    assert records.get(key) == record


def test_a_stopped_record_is_let_go_and_taken_over_with_its_progress(records, key):
    records.open(key, new(position=("chat-0", "old-1")), "tok1")
    records.accepted(key, "tok1", 1, "m1", chat_id="chat-1")
    records.stopped(key, "tok1", handoff.UNCONFIRMED, provider_error="no answer", unconfirmed=2, chat_id="chat-1")
    stopped = records.get(key)
    assert stopped.status == handoff.UNCONFIRMED and stopped.holder is None
    assert stopped.unconfirmed == 2 and stopped.provider_error == "no answer"

    record, created = records.open(key, new("other", position=("chat-9", "x")), "tok2")
    assert not created and record.status == handoff.SENDING and record.holder == "tok2"
    # A retry keeps what the first attempt recorded: its id (the provider keys), plan and position.
    assert record.id == "r1" and record.plan == PLAN and record.position == ("chat-0", "old-1")
    assert record.messages == {1: "m1"} and record.chat_id == "chat-1" and record.unconfirmed == 2
    with pytest.raises(StaleWrite):
        records.accepted(key, "tok1", 2, "m2")


def test_each_acceptance_names_the_next_message_and_the_last_finishes_the_record(records, key):
    first = records.open(key, new(), "tok1")[0].first_attempt_at
    for i in (1, 2):
        later(1)
        records.accepted(key, "tok1", i, f"m{i}", chat_id="chat-1" if i == 1 else None)
        stored = records.get(key)
        assert stored.attempting == i + 1 and stored.messages[i] == f"m{i}" and stored.chat_id == "chat-1"
    records.accepted(key, "tok1", 3, "m3", last=True)
    done = records.get(key)
    assert done.status == handoff.SENT and done.holder is None and done.attempting is None
    assert done.messages == {1: "m1", 2: "m2", 3: "m3"} and done.first_attempt_at == first


def test_an_acceptance_clears_what_the_last_holder_could_not_confirm(records, key):
    records.open(key, new(), "tok1")
    records.stopped(key, "tok1", handoff.UNCONFIRMED, provider_error="no answer", unconfirmed=1)
    records.open(key, new(), "tok2")
    records.accepted(key, "tok2", 1, "confirmed-by-read", chat_id="chat-1")
    record = records.get(key)
    assert record.unconfirmed is None and record.provider_error is None and record.attempting == 2


def test_a_sent_record_is_answered_as_it_is_never_taken_over(records, key):
    records.open(key, new(), "tok1")
    for i in (1, 2, 3):
        records.accepted(key, "tok1", i, f"m{i}", chat_id="chat-1" if i == 1 else None, last=i == 3)
    later(LEASE_SECONDS + 1)
    record, created = records.open(key, new("r2"), "tok2")
    assert not created and record.status == handoff.SENT and record.holder is None and record.id == "r1"
    assert Progress.of(record).complete
    with pytest.raises(StaleWrite):
        records.accepted(key, "tok2", 3, "again", last=True)
    with pytest.raises(StaleWrite):
        records.stopped(key, "tok1", handoff.REJECTED)
    assert records.get(key) == record


def test_the_position_is_kept_at_creation_or_written_by_the_holder_only(records, key):
    record, _ = records.open(key, new(position=("chat-1", "their-last")), "tok1")
    assert record.position == ("chat-1", "their-last")
    records.mark_position(key, "tok1", "chat-2", "newest")
    assert records.get(key).position == ("chat-2", "newest")
    with pytest.raises(StaleWrite):
        records.mark_position(key, "tok2", "chat-3", "x")
    assert records.get(key).position == ("chat-2", "newest")


def test_nothing_is_written_to_a_record_that_does_not_exist(records, key):
    for write in (lambda: records.accepted(key, "tok1", 1, "m1"),
                  lambda: records.stopped(key, "tok1", handoff.REJECTED),
                  lambda: records.mark_position(key, "tok1", "chat-1", "m0")):
        with pytest.raises(StaleWrite):
            write()
    assert records.get(key) is None


def test_what_a_caller_reads_is_a_copy(records, key):
    record, _ = records.open(key, new(), "tok1")
    record.plan[0].append({"type": "media", "value": "https://m.example/2.jpg"})
    record.messages[1] = "forged"
    assert records.get(key).plan == PLAN and records.get(key).messages == {}


def test_the_first_chat_kept_for_a_phone_wins_unless_it_is_replaced(records):
    org, phone = f"org_{uuid.uuid4().hex}", "+15550001111"
    assert records.stored_chat("linq", org, phone) is None
    assert records.remember_chat("linq", org, phone, "chat-a") == "chat-a"
    assert records.remember_chat("linq", org, phone, "chat-b") == "chat-a"
    assert records.stored_chat("linq", org, phone) == "chat-a"
    assert records.stored_chat("sandbox", org, phone) is None  # a sandbox chat is no Linq chat
    assert records.remember_chat("linq", org, phone, "chat-c", replaces="chat-x") == "chat-a"  # not the kept one
    assert records.remember_chat("linq", org, phone, "chat-c", replaces="chat-a") == "chat-c"
    assert records.stored_chat("linq", org, phone) == "chat-c"


def test_replacing_a_chat_that_was_never_kept_keeps_nothing(records):
    org, phone = f"org_{uuid.uuid4().hex}", "+15550002222"
    assert records.remember_chat("linq", org, phone, "chat-c", replaces="chat-gone") == "chat-c"
    assert records.stored_chat("linq", org, phone) is None


def test_a_record_written_before_first_attempt_at_and_markers_reads_its_creation(moto_table, key):
    """DynamoDB only: items from before the fields existed (the fake never had them)."""
    from layers_shared.store.send_records import DynamoSendRecords, record_key

    created = "2026-01-01T10:00:00.000Z"
    moto_table.put({**record_key(key), "type": "NOTIFY", "id": "r0", "status": handoff.UNAVAILABLE, "plan": PLAN,
                    "message1": "m1", "chatId": "chat-1", "attempting": 2, "createdAt": created})
    record = DynamoSendRecords(moto_table).get(key)
    assert record.first_attempt_at == created and record.position is None
    assert record.messages == {1: "m1"} and record.attempting == 2 and record.holder is None
