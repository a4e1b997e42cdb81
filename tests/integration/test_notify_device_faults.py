"""notify-device over HTTP when a fault hits after Linq accepted a message, or
when the reused chat holds an identical older text (issue 9, sequences 3, 4).
Linq's own duplicate guard is off: only our records and reads may prevent a
double text."""
from __future__ import annotations

import uuid

import pytest

from layers_shared import clock
from layers_shared.auth import parse_key
from layers_shared.domain import handoff
from layers_shared.domain.ports import HandoffKey
from layers_shared.store import send_records
from tests.fakes.linq import LIST_MESSAGES, SEND, FakeLinq
from tests.integration.test_notify_device import fresh_phone, notify
from tests.integration.test_notify_device_linq import _point_at
from tests.support import FIXTURE, LIVE_KEY, VIDEO, assert_envelope

DAY = 24 * 3600
ORG = next(k["organizationId"] for k in FIXTURE["apiKeys"] if k["key"] == LIVE_KEY)


@pytest.fixture
def linq(monkeypatch):
    with FakeLinq(honour_idempotency=False) as fake:
        _point_at(monkeypatch, fake)
        monkeypatch.setenv("LINQ_READ_TIMEOUT_SECONDS", "0.5")
        yield fake


def record_key(phone: str, idem: str) -> dict[str, str]:
    key_id = parse_key(LIVE_KEY).key_id  # type: ignore[union-attr]
    return send_records.record_key(HandoffKey(ORG, VIDEO, phone, handoff.request_scope(key_id, idem, "unused")))


def as_a_killed_process_left_it(stack, key: dict[str, str]) -> None:
    """Keep only what was written before the send: a killed process writes
    nothing after it (no failure status, no error) and its lease just runs out."""
    expired = clock.epoch_seconds(clock.now()) - 1
    stack.table.update(key, "SET #st = :sending, leaseUntil = :gone REMOVE unconfirmedMessage, providerError",
                       names={"#st": "status"}, values={":sending": handoff.SENDING, ":gone": expired})


def kinds(fake: FakeLinq, chat_id: str) -> list[str]:
    return [m.parts[0]["type"] for m in fake.messages(chat_id)]


def test_a_retry_after_the_function_died_past_message_2_confirms_it_instead_of_texting_again(api, stack, linq):
    phone, idem = fresh_phone(), str(uuid.uuid4())
    linq.hang_after_accept("POST", SEND, seconds=2)              # Linq takes the caption; no answer
    linq.fail_next("GET", LIST_MESSAGES, status=503, times=6)    # and the chat cannot be read
    first = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem)
    assert_envelope(first, 502, "PLATFORM_ERROR")
    (chat_id,) = linq.chats
    as_a_killed_process_left_it(stack, record_key(phone, idem))

    retry = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem)
    assert retry.status == 200, retry.body
    assert kinds(linq, chat_id) == ["media", "text", "text"]
    assert len(linq.messages(chat_id)) == 3


def test_a_retry_does_not_answer_sent_on_the_strength_of_yesterdays_identical_media(api, linq):
    phone, idem = fresh_phone(), str(uuid.uuid4())
    yesterday = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY)
    assert yesterday.status == 200, yesterday.body
    chat_id = yesterday.body["providerChatId"]
    linq.backdate(DAY)

    linq.hang_before_accept("POST", SEND, seconds=2)            # today's media never lands
    # The chat's position is read before the send; nothing can be read after it.
    linq.fail_next("GET", LIST_MESSAGES, status=503, times=6, skip=1)
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem), 502,
                              "PLATFORM_ERROR")
    assert details["acceptedMessages"] == 0

    retry = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem)
    assert retry.status == 200, retry.body
    assert retry.body["providerChatId"] == chat_id
    assert kinds(linq, chat_id) == ["media", "text", "text"] * 2
