"""notify-device with a live key: the Linq adapter against the fake Linq server
(tests/fakes/linq.py), through the local stack over HTTP."""
from __future__ import annotations

import uuid

import pytest

from tests.fakes.linq import CREATE_CHAT, LIST_MESSAGES, SEND, FakeLinq
from tests.integration.test_notify_device import fresh_phone, notify
from tests.support import FIXTURE, LIVE_KEY, SLIDESHOW, VIDEO, assert_envelope

SENDER = "+12052535597"


@pytest.fixture
def linq(monkeypatch):
    with FakeLinq() as fake:
        _point_at(monkeypatch, fake)
        yield fake


def _point_at(monkeypatch, fake: FakeLinq) -> None:
    monkeypatch.setenv("LINQ_API_BASE", fake.base_url)
    monkeypatch.setenv("LINQ_API_TOKEN", fake.token)
    monkeypatch.setenv("LINQ_FROM_NUMBER", SENDER)
    monkeypatch.delenv("LINQ_TOKEN_SECRET_ARN", raising=False)
    monkeypatch.delenv("SMS_PROVIDER", raising=False)


def posts(fake: FakeLinq) -> tuple[int, int]:
    """(chat creations, message sends) the fake received."""
    return len(fake.received("POST", CREATE_CHAT)), len(fake.received("POST", SEND))


def texts(fake: FakeLinq, chat_id: str) -> list[list[dict]]:
    return [m.parts for m in fake.messages(chat_id)]


def container(container_id: str) -> dict:
    return next(c for c in FIXTURE["containers"] if c["id"] == container_id)


def test_first_time_creates_the_chat_with_the_media_then_two_sends(api, linq):
    phone = fresh_phone()
    reply = notify(api, SLIDESHOW, {"phoneNumber": phone}, key=LIVE_KEY)
    assert reply.status == 200, reply.body
    assert posts(linq) == (1, 2)
    chat_id = reply.body["providerChatId"]
    assert list(linq.chats) == [chat_id]
    assert linq.chats[chat_id].handles == [phone]
    created = linq.received("POST", CREATE_CHAT)[0].body
    assert created["from"] == SENDER and created["to"] == [phone]
    media = [{"type": "media", "url": m["url"]} for m in container(SLIDESHOW)["media"]]
    stored = texts(linq, chat_id)
    assert stored[0] == media
    assert stored[1] == [{"type": "text", "value": container(SLIDESHOW)["caption"]}]
    assert stored[2][0]["type"] == "text" and stored[2][0]["value"].startswith("How to post this")
    keys = [m.idempotency_key for m in linq.messages(chat_id)]
    assert len(set(keys)) == 3 and all(k and k.startswith("notify-") for k in keys)
    assert reply.body == {"containerId": SLIDESHOW, "deliveryStatus": "sent", "phoneNumberLast4": phone[-4:],
                          "providerChatId": chat_id, "mediaCount": 3}


def test_a_known_phone_gets_three_sends_in_the_same_chat(api, linq):
    phone = fresh_phone()
    first = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY)
    second = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY)
    assert first.status == second.status == 200
    assert posts(linq) == (1, 2 + 3)
    assert second.body["providerChatId"] == first.body["providerChatId"]
    assert len(linq.messages(first.body["providerChatId"])) == 6


def test_the_sender_comes_from_linq_when_not_configured(api, linq, monkeypatch):
    monkeypatch.delenv("LINQ_FROM_NUMBER")
    assert notify(api, VIDEO, {"phoneNumber": fresh_phone()}, key=LIVE_KEY).status == 200
    assert linq.received("POST", CREATE_CHAT)[0].body["from"] == SENDER


def test_provider_rejection_is_502_with_the_linq_message_and_a_retry_continues(api, linq):
    phone, idem = fresh_phone(), str(uuid.uuid4())
    linq.fail_next("POST", SEND, status=400, message="Text part value must be 1 to 10000 characters")
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem), 502,
                              "PLATFORM_ERROR")
    assert details["reason"] == "PROVIDER_REJECTED"
    assert details["providerError"] == "Text part value must be 1 to 10000 characters"
    (chat_id,) = linq.chats
    assert len(linq.messages(chat_id)) == 1  # the media went; the caption was refused

    retry = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem)
    assert retry.status == 200, retry.body
    assert posts(linq) == (1, 3)  # the refused caption again, then the instructions: no second media
    assert len(linq.messages(chat_id)) == 3
    assert retry.body["providerChatId"] == chat_id


def test_timeout_after_submit_is_confirmed_by_reading_and_never_resent(api, monkeypatch):
    # Linq's own duplicate guard is off: only our read-back can prevent a double text.
    with FakeLinq(honour_idempotency=False) as fake:
        _point_at(monkeypatch, fake)
        monkeypatch.setenv("LINQ_READ_TIMEOUT_SECONDS", "0.5")
        fake.hang_after_accept("POST", SEND, seconds=2)
        phone = fresh_phone()
        reply = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY)
        assert reply.status == 200, reply.body
        stored = fake.messages(reply.body["providerChatId"])
        assert len(stored) == 3
        assert len({m.idempotency_key for m in stored}) == 3
        assert fake.received("GET", LIST_MESSAGES)  # it was read back
        assert posts(fake) == (1, 2)


def test_an_unconfirmable_send_is_502_and_the_retry_confirms_instead_of_resending(api, monkeypatch):
    with FakeLinq(honour_idempotency=False) as fake:
        _point_at(monkeypatch, fake)
        monkeypatch.setenv("LINQ_READ_TIMEOUT_SECONDS", "0.5")
        fake.hang_after_accept("POST", SEND, seconds=2)               # the caption lands, no answer
        fake.fail_next("GET", LIST_MESSAGES, status=503, times=6)     # and every read-back fails
        phone, idem = fresh_phone(), str(uuid.uuid4())
        first = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem)
        details = assert_envelope(first, 502, "PLATFORM_ERROR")
        assert details["reason"] == "PROVIDER_REJECTED"
        assert "could not be confirmed" in details["providerError"]
        (chat_id,) = fake.chats
        assert len(fake.messages(chat_id)) == 2  # media + caption, both once

        retry = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem)
        assert retry.status == 200, retry.body
        stored = fake.messages(chat_id)
        assert len(stored) == 3  # the caption was found by reading, not sent again
        assert [m.parts[0]["type"] for m in stored] == ["media", "text", "text"]
        assert stored[1].parts != stored[2].parts
        assert posts(fake) == (1, 2)


def test_a_chat_the_provider_no_longer_knows_is_replaced(api, monkeypatch):
    phone = fresh_phone()
    with FakeLinq() as old:
        _point_at(monkeypatch, old)
        first = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY)
    with FakeLinq() as new:
        _point_at(monkeypatch, new)
        second = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY)
        third = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY)
        assert first.status == second.status == third.status == 200
        assert second.body["providerChatId"] != first.body["providerChatId"]
        assert list(new.chats) == [second.body["providerChatId"]]
        assert third.body["providerChatId"] == second.body["providerChatId"]
        assert len(new.messages(second.body["providerChatId"])) == 6


def test_live_key_without_a_token_is_503(api, monkeypatch):
    monkeypatch.delenv("LINQ_API_TOKEN", raising=False)
    monkeypatch.delenv("LINQ_TOKEN_SECRET_ARN", raising=False)
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": fresh_phone()}, key=LIVE_KEY), 503,
                              "PLATFORM_ERROR")
    assert details["reason"] == "SMS_PROVIDER_UNAVAILABLE"


def test_switched_off_wins_over_a_configured_token(api, linq, monkeypatch):
    monkeypatch.setenv("SMS_PROVIDER", "none")
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": fresh_phone()}, key=LIVE_KEY), 503,
                              "PLATFORM_ERROR")
    assert details["reason"] == "SMS_PROVIDER_UNAVAILABLE"
    assert linq.requests == []


def test_a_linq_outage_is_503_and_a_later_retry_sends_once(api, linq):
    """Linq answers 503 to every create (refused, nothing stored); reads work, so
    the adapter knows nothing landed: 503, and the retry with the same key sends."""
    linq.fail_next("POST", CREATE_CHAT, status=503, times=3)  # every attempt the adapter makes
    phone, idem = fresh_phone(), str(uuid.uuid4())
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem), 503,
                              "PLATFORM_ERROR")
    assert details["reason"] == "SMS_PROVIDER_UNAVAILABLE"
    assert linq.accepted_count == 0 and len(linq.received("POST", CREATE_CHAT)) == 3
    retry = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem)
    assert retry.status == 200, retry.body
    assert linq.accepted_count == 3 and len(linq.chats) == 1


def test_an_unconfirmable_chat_creation_is_found_by_phone_on_retry(api, monkeypatch):
    from tests.fakes.linq import LIST_CHATS

    with FakeLinq(honour_idempotency=False) as fake:
        _point_at(monkeypatch, fake)
        monkeypatch.setenv("LINQ_READ_TIMEOUT_SECONDS", "0.5")
        fake.hang_after_accept("POST", CREATE_CHAT, seconds=2)      # the chat and the media land, no answer
        fake.fail_next("GET", LIST_CHATS, status=503, times=6)      # and every lookup fails
        phone, idem = fresh_phone(), str(uuid.uuid4())
        details = assert_envelope(notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem), 502,
                                  "PLATFORM_ERROR")
        assert details["reason"] == "PROVIDER_REJECTED" and details["acceptedMessages"] == 0
        (chat_id,) = fake.chats

        retry = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY, idem=idem)
        assert retry.status == 200, retry.body
        assert retry.body["providerChatId"] == chat_id
        assert posts(fake) == (1, 2)
        assert [m.parts[0]["type"] for m in fake.messages(chat_id)] == ["media", "text", "text"]

        later = notify(api, VIDEO, {"phoneNumber": phone}, key=LIVE_KEY)
        assert later.body["providerChatId"] == chat_id and posts(fake) == (1, 5)
