"""In memory: the device handoff's `SendRecords` (layers_shared/domain/ports.py).

Held to the DynamoDB adapter (store/send_records.py) by
tests/unit/store/test_send_records_contract.py: the same conditions decide
who holds a record (a put only if missing; a takeover only of an unfinished
record whose lease ran out, checked in whole epoch seconds as the table does;
every other write only by the token that holds it) and the first chat id
kept wins. Records are copied in and out, as a round trip through the table
would: a caller that changes what it read does not change what is stored.
"""
from __future__ import annotations

import copy
import dataclasses

from layers_shared import clock
from layers_shared.domain.handoff import LEASE_SECONDS, SENDING, SENT
from layers_shared.domain.ports import HandoffKey, NewSendRecord, SendRecord, StaleWrite


class InMemorySendRecords:
    def __init__(self) -> None:
        self.records: dict[HandoffKey, SendRecord] = {}
        self.leases: dict[HandoffKey, int] = {}  # epoch second the holder's lease runs until
        self.chats: dict[tuple[str, str, str], str] = {}

    # --- the send record ------------------------------------------------------------------------

    def open(self, key: HandoffKey, new: NewSendRecord, token: str) -> tuple[SendRecord, bool]:
        now = clock.now()
        epoch = clock.epoch_seconds(now)
        found = self.records.get(key)
        if found is None:
            self.records[key] = SendRecord(
                id=new.id, status=SENDING, plan=copy.deepcopy(new.plan), messages={}, chat_id=None, attempting=1,
                unconfirmed=None, position=new.position, first_attempt_at=clock.to_storage(now), holder=token)
            self.leases[key] = epoch + LEASE_SECONDS
            return self._read(key), True
        lease = self.leases.get(key)
        if found.status != SENT and (lease is None or lease < epoch):
            self.records[key] = dataclasses.replace(found, holder=token, status=SENDING)
            self.leases[key] = epoch + LEASE_SECONDS
            return self._read(key), False
        if found.status == SENT:
            return self._read(key), False
        raise StaleWrite()

    def get(self, key: HandoffKey) -> SendRecord | None:
        return self._read(key) if key in self.records else None

    def accepted(self, key: HandoffKey, token: str, index: int, message_id: str, *,
                 chat_id: str | None = None, last: bool = False) -> None:
        found = self._held(key, token)
        changes: dict = {"messages": {**found.messages, index: message_id}, "unconfirmed": None,
                         "provider_error": None}
        if last:
            changes.update(status=SENT, attempting=None, holder=None)
            self.leases.pop(key, None)
        else:
            changes["attempting"] = index + 1
        if chat_id:
            changes["chat_id"] = chat_id
        self.records[key] = dataclasses.replace(found, **changes)

    def stopped(self, key: HandoffKey, token: str, status: str, *, provider_error: str | None = None,
                unconfirmed: int | None = None, chat_id: str | None = None) -> None:
        found = self._held(key, token)
        changes: dict = {"status": status, "holder": None}
        if provider_error is not None:
            changes["provider_error"] = provider_error
        if unconfirmed is not None:
            changes["unconfirmed"] = unconfirmed
        if chat_id:
            changes["chat_id"] = chat_id
        self.leases.pop(key, None)
        self.records[key] = dataclasses.replace(found, **changes)

    def mark_position(self, key: HandoffKey, token: str, chat_id: str, marker: str) -> None:
        self.records[key] = dataclasses.replace(self._held(key, token), position=(chat_id, marker))

    def _held(self, key: HandoffKey, token: str) -> SendRecord:
        found = self.records.get(key)
        if found is None or found.holder != token:
            raise StaleWrite()
        return found

    def _read(self, key: HandoffKey) -> SendRecord:
        return copy.deepcopy(self.records[key])

    # --- the chat id per (provider, organization, phone) ---------------------------------------

    def stored_chat(self, provider: str, organization_id: str, phone: str) -> str | None:
        return self.chats.get((provider, organization_id, phone))

    def remember_chat(self, provider: str, organization_id: str, phone: str, chat_id: str,
                      replaces: str | None = None) -> str:
        where = (provider, organization_id, phone)
        kept = self.chats.get(where)
        if (kept == replaces) if replaces else kept is None:
            self.chats[where] = chat_id
            return chat_id
        return kept or chat_id
