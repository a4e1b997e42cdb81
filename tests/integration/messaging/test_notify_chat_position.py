"""notify-device read-backs are bounded by the chat's position, not by time
(docs/adr/0056): `make campaign-live` found request B, texting the same
container to the same phone seconds after request A, taking A's identical
message for its own when one of B's sends failed, and answering `sent` with a
message missing. And a time bound misses B's own message when Linq's clock
runs behind ours, so it gets sent twice.

Against the fake Linq server over HTTP with Linq's own duplicate guard off;
every `DeviceHandoff` gets a fresh adapter (a new invocation remembers nothing).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from layers_shared.domain.errors import ProviderFailed
from layers_shared.services.notify import Sent
from layers_shared.store.send_records import record_key
from tests.fakes.linq import LIST_MESSAGES, SEND, FakeLinq
from tests.integration.messaging.test_notify_exactly_once import (
    Interrupting, adapter, delivery, handoff_key, kinds, phone,
)

ONE_NOTIFY = ["media", "caption", "steps"]


def the_chat(fake: FakeLinq, to: str) -> list[list[dict]]:
    chats = [c for c in fake.chats.values() if c.handles == [to]]
    assert len(chats) == 1, "the chat is reused per phone"
    return [m.parts for m in chats[0].messages]


def request_a(table: Any, linq: FakeLinq, to: str) -> None:
    """The partner's first text of the container: answered sent, 3 messages."""
    assert isinstance(delivery(table, adapter(linq), to, f"req-{uuid.uuid4().hex}").run(), Sent)
    assert kinds(the_chat(linq, to)) == ONE_NOTIFY


FAULTS: dict[str, Callable[[FakeLinq], None]] = {
    "refused-500": lambda linq: linq.fail_next("POST", SEND, status=500),
    "refused-503": lambda linq: linq.fail_next("POST", SEND, status=503),
    "no-answer": lambda linq: linq.hang_before_accept("POST", SEND, seconds=2),
    "accepted-then-500": lambda linq: linq.fail_next("POST", SEND, status=500, after_accept=True),
    "accepted-no-answer": lambda linq: linq.hang_after_accept("POST", SEND, seconds=2),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("index", [1, 2, 3])
def test_a_second_notify_seconds_later_delivers_all_three_of_its_own(table, linq, index, fault):
    """Campaign seed 2, #57: 'message send [refused-500], message read, message
    send, message send -> 200, 2 delivered'. B must deliver its own message."""
    to = phone()
    request_a(table, linq, to)

    answer = delivery(table, Interrupting(adapter(linq), index, lambda: FAULTS[fault](linq), before=True),
                      to, f"idem-{uuid.uuid4().hex}").run()

    assert isinstance(answer, Sent)
    assert kinds(the_chat(linq, to)) == ONE_NOTIFY + ONE_NOTIFY


@pytest.mark.parametrize("index", [1, 2, 3])
def test_a_retry_finds_its_own_message_when_linqs_clock_runs_behind(table, linq, index):
    """B's message lands but its answer is lost and the chat cannot be read;
    Linq stamps everything 30 s earlier than our clock. The retry must find B's
    message by its place in the chat, not resend it."""
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    request_a(table, linq, to)

    def lose_the_answer() -> None:
        linq.hang_after_accept("POST", SEND, seconds=2)
        linq.fail_next("GET", LIST_MESSAGES, status=503, times=6)

    with pytest.raises(ProviderFailed) as first:
        delivery(table, Interrupting(adapter(linq), index, lose_the_answer, before=True), to, scope).run()
    assert not first.value.unavailable and first.value.details["acceptedMessages"] == index - 1
    linq.backdate(30)

    retry = delivery(table, adapter(linq), to, scope).run()
    assert isinstance(retry, Sent)
    assert kinds(the_chat(linq, to)) == ONE_NOTIFY + ONE_NOTIFY


def test_the_marker_is_recorded_before_the_first_send_into_an_existing_chat(table, linq):
    """What a retry sees: a record whose first send into the stored chat may
    have happened always carries the chat's position from before it."""
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    request_a(table, linq, to)
    (chat_id,) = [c.id for c in linq.chats.values() if c.handles == [to]]
    newest = linq.messages(chat_id)[-1].id
    seen: list[dict] = []

    def look() -> None:
        seen.append(table.get(record_key(handoff_key(to, scope)), consistent=True))

    assert isinstance(delivery(table, Interrupting(adapter(linq), 1, look, before=True), to, scope).run(), Sent)
    assert seen[0]["markerChatId"] == chat_id and seen[0]["chatMarker"] == newest


def test_no_send_goes_into_an_existing_chat_without_a_position(table, linq):
    """The chat cannot be read before the first send: nothing is sent (a 503 to
    retry), since no later read-back could tell B's media from A's."""
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    request_a(table, linq, to)
    linq.fail_next("GET", LIST_MESSAGES, status=503, times=3)  # every try of the one read

    with pytest.raises(ProviderFailed) as first:
        delivery(table, adapter(linq), to, scope).run()
    assert first.value.unavailable and kinds(the_chat(linq, to)) == ONE_NOTIFY

    assert isinstance(delivery(table, adapter(linq), to, scope).run(), Sent)
    assert kinds(the_chat(linq, to)) == ONE_NOTIFY + ONE_NOTIFY


def test_a_record_without_a_position_takes_one_before_its_next_send(table, linq):
    """A record from before markers (or whose message 1 was confirmed by reading,
    id unknown) records the chat's position before it sends again."""
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    request_a(table, linq, to)
    linq.backdate(60)  # past the time bound such a record's read-back still has
    linq.fail_next("POST", SEND, status=400, skip=1)  # B's caption refused: B stops after its media
    with pytest.raises(ProviderFailed):
        delivery(table, adapter(linq), to, scope).run()
    key = record_key(handoff_key(to, scope))
    table.update(key, "SET message1 = :unknown REMOVE markerChatId, chatMarker",
                 values={":unknown": "confirmed-by-read"})
    (chat_id,) = [c.id for c in linq.chats.values() if c.handles == [to]]
    b_media = linq.messages(chat_id)[-1].id
    seen: list[dict] = []

    def look() -> None:
        seen.append(table.get(key, consistent=True))

    assert isinstance(delivery(table, Interrupting(adapter(linq), 2, look, before=True), to, scope).run(), Sent)
    assert seen[0]["markerChatId"] == chat_id and seen[0]["chatMarker"] == b_media
    assert kinds(the_chat(linq, to)) == ONE_NOTIFY + ONE_NOTIFY
