"""The device handoff's send records and chat ids in the single table: the
DynamoDB side of the `SendRecords` port (docs/adr/0051, 0053, 0056).

- The send record, `NOTIFY#<org>#<container>#<phone>#<scope>`: created with a
  conditional put before the first provider call, then updated after every
  accepted message. Every update is conditioned on the holder's lease token.
- The attempt: `attempting` names the message that may be on its way. The put
  names message 1; each acceptance names the next in the same update, so a
  process that dies between a send and its update still leaves it behind.
- The chat position (`markerChatId`, `chatMarker`) and `firstAttemptAt`, which
  bound the read-backs (a record older than the field: its `createdAt`).
- The chat id, `CHAT#<provider>#<org>#<phone>`.

Each method is one AWS call, except `open` when the record already exists.
"""
from __future__ import annotations

import copy
from typing import Any

from layers_shared import clock
from layers_shared.domain.handoff import LEASE_SECONDS, SENDING, SENT
from layers_shared.domain.ports import HandoffKey, NewSendRecord, SendRecord, StaleWrite
from layers_shared.store.table import ConditionFailed, Table

TTL_SECONDS = 7 * 24 * 3600  # outlives the 24 h idempotency record it backs
FIRST_MESSAGE = 1
_MESSAGE = "message"  # message<i>: the provider id of accepted message i


def record_key(key: HandoffKey) -> dict[str, str]:
    return {"PK": f"NOTIFY#{key.organization_id}#{key.container_id}#{key.phone}#{key.scope}", "SK": "META"}


def chat_key(provider: str, organization_id: str, phone: str) -> dict[str, str]:
    return {"PK": f"CHAT#{provider}#{organization_id}#{phone}", "SK": "META"}


def decode(item: dict[str, Any]) -> SendRecord:
    def index(name: str) -> int | None:
        return int(item[name]) if item.get(name) else None

    return SendRecord(
        # The plan is copied: the record put is built from the caller's own plan.
        id=str(item["id"]), status=str(item.get("status") or SENDING), plan=copy.deepcopy(item.get("plan") or []),
        messages={int(name[len(_MESSAGE):]): str(value) for name, value in item.items()
                  if name.startswith(_MESSAGE) and name[len(_MESSAGE):].isdigit() and value is not None},
        chat_id=str(item["chatId"]) if item.get("chatId") else None,
        attempting=index("attempting"), unconfirmed=index("unconfirmedMessage"),
        position=(str(item["markerChatId"]), str(item["chatMarker"]))
        if item.get("markerChatId") and item.get("chatMarker") else None,
        first_attempt_at=item.get("firstAttemptAt") or item.get("createdAt"),
        holder=item.get("leaseToken"), provider_error=item.get("providerError"))


class DynamoSendRecords:
    def __init__(self, table: Table):
        self.table = table

    # --- the send record ------------------------------------------------------------------------

    def open(self, key: HandoffKey, new: NewSendRecord, token: str) -> tuple[SendRecord, bool]:
        now = clock.now()
        epoch, stamp = clock.epoch_seconds(now), clock.to_storage(now)
        item: dict[str, Any] = {
            **record_key(key), "type": "NOTIFY", "id": new.id, "organizationId": key.organization_id,
            "containerId": key.container_id, "phoneNumber": key.phone, "provider": new.provider,
            "apiKeyId": new.api_key_id, "plan": new.plan, "status": SENDING, "leaseToken": token,
            "leaseUntil": epoch + LEASE_SECONDS, "attempting": FIRST_MESSAGE, "attemptingAt": stamp,
            "firstAttemptAt": stamp, "createdAt": stamp, "updatedAt": stamp, "expiresAt": epoch + TTL_SECONDS}
        if new.position:
            item.update(markerChatId=new.position[0], chatMarker=new.position[1])
        try:
            self.table.put(item, condition="attribute_not_exists(PK)")
            return decode(item), True
        except ConditionFailed:
            pass
        try:
            taken = self.table.update(
                record_key(key), "SET leaseToken = :tok, leaseUntil = :until, #st = :sending, updatedAt = :now",
                names={"#st": "status"},
                values={":tok": token, ":until": epoch + LEASE_SECONDS, ":sending": SENDING, ":sent": SENT,
                        ":now": stamp, ":epoch": epoch},
                condition="attribute_exists(PK) AND #st <> :sent AND "
                          "(attribute_not_exists(leaseUntil) OR leaseUntil < :epoch)",
                return_new=True)
            assert taken is not None  # return_new: the item as updated
            return decode(taken), False
        except ConditionFailed:
            pass
        existing = self.table.get(record_key(key), consistent=True)
        if existing is not None and existing.get("status") == SENT:
            return decode(existing), False
        raise StaleWrite()

    def get(self, key: HandoffKey) -> SendRecord | None:
        item = self.table.get(record_key(key), consistent=True)
        return decode(item) if item else None

    def accepted(self, key: HandoffKey, token: str, index: int, message_id: str, *,
                 chat_id: str | None = None, last: bool = False) -> None:
        sets = [f"{_MESSAGE}{int(index)} = :mid", "updatedAt = :now"]
        values: dict[str, Any] = {":mid": message_id, ":tok": token, ":now": clock.to_storage(clock.now())}
        removes = ["unconfirmedMessage", "providerError"]
        if last:
            sets.append("#st = :sent")
            values[":sent"] = SENT
            removes += ["attempting", "attemptingAt", "leaseToken", "leaseUntil"]
        else:
            sets += ["attempting = :next", "attemptingAt = :now"]
            values[":next"] = index + 1
        if chat_id:
            sets.append("chatId = :chat")
            values[":chat"] = chat_id
        self._held(key, "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes), values,
                   names={"#st": "status"} if last else None)

    def stopped(self, key: HandoffKey, token: str, status: str, *, provider_error: str | None = None,
                unconfirmed: int | None = None, chat_id: str | None = None) -> None:
        sets = ["#st = :st", "updatedAt = :now"]
        values: dict[str, Any] = {":st": status, ":tok": token, ":now": clock.to_storage(clock.now())}
        if provider_error is not None:
            sets.append("providerError = :err")
            values[":err"] = provider_error
        if unconfirmed is not None:
            sets.append("unconfirmedMessage = :unc")
            values[":unc"] = unconfirmed
        if chat_id:
            sets.append("chatId = :chat")
            values[":chat"] = chat_id
        self._held(key, "SET " + ", ".join(sets) + " REMOVE leaseToken, leaseUntil", values, names={"#st": "status"})

    def mark_position(self, key: HandoffKey, token: str, chat_id: str, marker: str) -> None:
        self._held(key, "SET markerChatId = :chat, chatMarker = :marker, updatedAt = :now",
                   {":chat": chat_id, ":marker": marker, ":tok": token, ":now": clock.to_storage(clock.now())})

    def _held(self, key: HandoffKey, expression: str, values: dict[str, Any],
              names: dict[str, str] | None = None) -> None:
        try:
            self.table.update(record_key(key), expression, names=names, values=values, condition="leaseToken = :tok")
        except ConditionFailed:
            raise StaleWrite() from None  # our lease ran out and another invocation holds the record

    # --- the chat id per (provider, organization, phone) ---------------------------------------

    def stored_chat(self, provider: str, organization_id: str, phone: str) -> str | None:
        item = self.table.get(chat_key(provider, organization_id, phone))
        return str(item["chatId"]) if item and item.get("chatId") else None

    def remember_chat(self, provider: str, organization_id: str, phone: str, chat_id: str,
                      replaces: str | None = None) -> str:
        item = {**chat_key(provider, organization_id, phone), "type": "CHAT", "chatId": chat_id,
                "organizationId": organization_id, "provider": provider, "updatedAt": clock.to_storage(clock.now())}
        try:
            if replaces:
                self.table.put(item, condition="chatId = :old", values={":old": replaces})
            else:
                self.table.put(item, condition="attribute_not_exists(PK)")
            return chat_id
        except ConditionFailed:
            return self.stored_chat(provider, organization_id, phone) or chat_id
