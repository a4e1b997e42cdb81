"""The sandbox messenger: seed-fixture.md "SMS" rules, no network."""
from __future__ import annotations

import threading

import pytest

from layers_shared.messaging.port import Message, MessagingPort, Part, ProviderRejected
from layers_shared.messaging.sandbox import REJECTED_MESSAGE, SandboxMessenger

MEDIA = Message((Part("media", "https://cdn.example/a.jpg"),), "n-1")
CAPTION = Message((Part("text", "caption"),), "n-2")
STEPS = Message((Part("text", "1. Save the photo."),), "n-3")


class Recorder(list):
    def __call__(self, **record) -> None:
        self.append(record)


def test_three_messages_are_accepted_and_recorded_once_each() -> None:
    recorder = Recorder()
    messenger: MessagingPort = SandboxMessenger(record=recorder)

    chat = messenger.create_chat("+15551234567", MEDIA)
    messenger.send(chat.chat_id, CAPTION)
    messenger.send(chat.chat_id, STEPS)

    assert chat.chat_id.startswith("chat_") and len(chat.message_ids) == 1
    assert recorder == [
        {"kind": "sms", "phone": "+15551234567", "message_idempotency_key": "n-1",
         "parts": [{"type": "media", "url": "https://cdn.example/a.jpg"}]},
        {"kind": "sms", "phone": "+15551234567", "message_idempotency_key": "n-2",
         "parts": [{"type": "text", "value": "caption"}]},
        {"kind": "sms", "phone": "+15551234567", "message_idempotency_key": "n-3",
         "parts": [{"type": "text", "value": "1. Save the photo."}]},
    ]
    assert [d.idempotency_key for d in messenger.deliveries] == ["n-1", "n-2", "n-3"]


def test_number_ending_in_0000_is_rejected_and_not_recorded() -> None:
    recorder = Recorder()
    messenger = SandboxMessenger(record=recorder)

    with pytest.raises(ProviderRejected) as caught:
        messenger.create_chat("+15550000000", MEDIA)

    assert caught.value.message == REJECTED_MESSAGE == "Destination rejected by carrier (sandbox)"
    assert recorder == [] and messenger.deliveries == []


def test_a_repeated_key_is_not_a_second_delivery() -> None:
    recorder = Recorder()
    messenger = SandboxMessenger(record=recorder)
    chat = messenger.create_chat("+15551234567", MEDIA)

    first = messenger.send(chat.chat_id, CAPTION)
    again = messenger.send(chat.chat_id, CAPTION)
    assert messenger.create_chat("+15551234567", MEDIA).chat_id == chat.chat_id

    assert first == again
    assert len(recorder) == 2


def test_concurrent_sends_of_one_key_count_once() -> None:
    messenger = SandboxMessenger()
    chat = messenger.create_chat("+15551234567", MEDIA)
    threads = [threading.Thread(target=messenger.send, args=(chat.chat_id, CAPTION)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(messenger.deliveries) == 2


def test_find_chat_and_has_message_answer_from_what_was_recorded() -> None:
    messenger = SandboxMessenger()
    chat = messenger.create_chat("+15551234567", MEDIA)
    messenger.send(chat.chat_id, CAPTION)

    assert messenger.find_chat("+15551234567", "n-1") == chat.chat_id
    assert messenger.find_chat("+15557654321", "n-1") is None
    assert messenger.find_chat("+15551234567", "other") is None
    assert messenger.has_message(chat.chat_id, "n-2")
    assert not messenger.has_message(chat.chat_id, "n-3")


def test_a_chat_id_kept_by_the_caller_works_in_a_new_messenger() -> None:
    recorder = Recorder()
    chat = SandboxMessenger().create_chat("+15551234567", MEDIA)

    SandboxMessenger(record=recorder).send(chat.chat_id, CAPTION)

    assert recorder[0]["phone"] == "+15551234567"


def test_a_foreign_chat_id_is_rejected() -> None:
    with pytest.raises(ProviderRejected):
        SandboxMessenger().send("not-a-sandbox-chat", CAPTION)


def test_without_a_recorder_it_keeps_its_own_list() -> None:
    messenger = SandboxMessenger()
    chat = messenger.create_chat("+447700900123", MEDIA)
    assert messenger.deliveries[0].phone == "+447700900123"
    assert messenger.deliveries[0].message_id == chat.message_ids[0]
