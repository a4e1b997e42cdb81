"""The sandbox messenger for `lp_test_` keys: deterministic, nothing leaves the machine.

Rules (seed-fixture.md, "SMS"): a destination ending in `0000` is rejected by
the "carrier"; every other number is accepted. Each accepted message is
reported once through `record` so the caller can persist it as a sandbox
delivery (`GET /_local/sandbox/deliveries`). A repeated idempotency key in the
same chat is answered with the first message, like Linq's own guard, so a
retried send never counts as a second delivery.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from layers_shared.messaging.port import CHAT_START, Message, Part, ProviderRejected, SentChat

REJECTED_SUFFIX = "0000"
REJECTED_MESSAGE = "Destination rejected by carrier (sandbox)"

# record(kind="sms", phone=..., message_idempotency_key=..., parts=[{"type": "text", "value": ...}, ...]);
# parts in Linq's wire shape (Part.to_linq), so they can be stored as they are.
RecordFn = Callable[..., None]

# Chat id -> phone for the whole process: a handler builds a new messenger per
# request, while the caller keeps the chat id and reuses it on the next one.
_chat_phones: dict[str, str] = {}
_chat_lock = threading.Lock()


@dataclass(frozen=True)
class SandboxDelivery:
    chat_id: str
    message_id: str
    phone: str
    idempotency_key: str
    parts: tuple[Part, ...]


class SandboxMessenger:
    """`MessagingPort` without a network."""

    def __init__(self, record: RecordFn | None = None):
        self._record = record
        self.deliveries: list[SandboxDelivery] = []   # what was "sent", in order (tests read it)
        self._lock = threading.Lock()

    def create_chat(self, to: str, first: Message) -> SentChat:
        _check_destination(to)
        with self._lock:
            existing = self._find(to, first.idempotency_key)
            if existing is not None:
                return SentChat(existing.chat_id, [existing.message_id])
            chat_id = f"chat_{uuid.uuid4()}"
            with _chat_lock:
                _chat_phones[chat_id] = to
            delivery = self._append(chat_id, to, first)
        self._report(delivery)
        return SentChat(chat_id, [delivery.message_id])

    def send(self, chat_id: str, message: Message, *, after: str | None = None) -> str:
        with _chat_lock:
            phone = _chat_phones.get(chat_id)
        if phone is None:
            # A chat id from another process (the sandbox keeps no durable
            # state) is still a valid caller-held id; only foreign ids fail.
            if not chat_id.startswith("chat_"):
                raise ProviderRejected("Chat not found (sandbox)", status=404, code="2001")
            phone = ""
        if phone:
            _check_destination(phone)
        with self._lock:
            existing = self._in_chat(chat_id, message.idempotency_key)
            if existing is not None:
                return existing.message_id
            delivery = self._append(chat_id, phone, message)
        self._report(delivery)
        return delivery.message_id

    # Idempotency keys are per send record and the sandbox matches on them
    # alone, so an older message can never pass for this one: `not_before` and `after` are moot.
    def latest_message(self, chat_id: str) -> str:
        with self._lock:
            found = [d for d in self.deliveries if d.chat_id == chat_id]
        return found[-1].message_id if found else CHAT_START

    def find_chat(self, to: str, first_idempotency_key: str, *, parts: Sequence[Part] | None = None,
                  not_before: datetime | None = None, after: Mapping[str, str] | None = None) -> str | None:
        with self._lock:
            found = self._find(to, first_idempotency_key)
        return found.chat_id if found else None

    def has_message(self, chat_id: str, idempotency_key: str, *, parts: Sequence[Part] | None = None,
                    not_before: datetime | None = None, after: str | None = None) -> bool:
        with self._lock:
            return self._in_chat(chat_id, idempotency_key) is not None

    # --- internals (the check and the append happen under one lock, so two
    # concurrent sends of one key cannot both count) --------------------------------------------

    def _append(self, chat_id: str, phone: str, message: Message) -> SandboxDelivery:
        delivery = SandboxDelivery(chat_id, f"msg_{uuid.uuid4()}", phone, message.idempotency_key,
                                   tuple(message.parts))
        self.deliveries.append(delivery)
        return delivery

    def _report(self, delivery: SandboxDelivery) -> None:
        if self._record is not None:  # outside the lock: the caller may write to a store
            self._record(kind="sms", phone=delivery.phone, message_idempotency_key=delivery.idempotency_key,
                         parts=[part.to_linq() for part in delivery.parts])

    def _find(self, phone: str, key: str) -> SandboxDelivery | None:
        return next((d for d in self.deliveries if d.phone == phone and d.idempotency_key == key), None)

    def _in_chat(self, chat_id: str, key: str) -> SandboxDelivery | None:
        return next((d for d in self.deliveries if d.chat_id == chat_id and d.idempotency_key == key), None)


def _check_destination(phone: str) -> None:
    if phone.endswith(REJECTED_SUFFIX):
        raise ProviderRejected(REJECTED_MESSAGE, status=400, code="1002")
