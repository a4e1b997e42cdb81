"""Table items of the device handoff (docs/adr/0051, 0053).

- The send record, one per (organization, container, phone, request scope):
  written with a conditional put before the first provider call, then updated
  after every accepted message. Whoever works on it holds a lease, so two
  invocations never send for the same record at once.
- The attempt (docs/adr/0056): `attempting` names the message that may be on
  its way to the provider. It is written before that message is sent, in the
  same write that records the previous one as accepted (the put, for message
  1), so a process that dies between a send and its record update still leaves
  it behind; a retry reads that message back before sending it.
- The chat position (`markerChatId`, `chatMarker`): the newest message id of a
  reused chat, read and written here before this request's first send into
  it. Read-backs only accept what comes after it (or after this request's own
  previous message). `firstAttemptAt` bounds only what has no position: the
  look-up by phone after a lost chat creation, and records older than markers.
- The chat id, one per (provider, organization, phone): `providerChatId`.

Each function is one AWS call, except `open` when the record already exists.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from layers_shared import clock, errors
from layers_shared.store.table import ConditionFailed, Table

LEASE_SECONDS = 60          # longer than the function may run (29 s)
TTL_SECONDS = 7 * 24 * 3600  # outlives the 24 h idempotency record it backs

FIRST_MESSAGE = 1

SENDING, SENT = "sending", "sent"
REJECTED, UNCONFIRMED, UNAVAILABLE = "rejected", "unconfirmed", "unavailable"


def request_scope(key_id: str, idempotency_key: str | None, request_id: str) -> str:
    """Same API key + same Idempotency-Key -> the same record; without a key
    every request is its own (the partner asked for a second text)."""
    if idempotency_key is None:
        return f"req-{request_id}"
    return "idem-" + hashlib.sha256(f"{key_id}\n{idempotency_key}".encode()).hexdigest()[:40]


def record_key(organization_id: str, container_id: str, phone: str, scope: str) -> dict[str, str]:
    return {"PK": f"NOTIFY#{organization_id}#{container_id}#{phone}#{scope}", "SK": "META"}


def chat_key(provider: str, organization_id: str, phone: str) -> dict[str, str]:
    return {"PK": f"CHAT#{provider}#{organization_id}#{phone}", "SK": "META"}


# --- the send record ---------------------------------------------------------------------------

def open_record(table: Table, key: dict[str, str], fresh: dict[str, Any], token: str) -> tuple[dict[str, Any], bool]:
    """(record, created). Creates it holding the lease, or takes the lease of an
    existing unfinished one. A finished (`sent`) record is returned as is, for
    the caller to answer from. Another live lease -> 409 IDEMPOTENCY_IN_PROGRESS."""
    now = clock.now()
    until = clock.epoch_seconds(now) + LEASE_SECONDS
    stamp = clock.to_storage(now)
    item = {**key, "type": "NOTIFY", **fresh, "status": SENDING, "leaseToken": token, "leaseUntil": until,
            "attempting": FIRST_MESSAGE, "attemptingAt": stamp, "firstAttemptAt": stamp,
            "createdAt": stamp, "updatedAt": stamp, "expiresAt": clock.epoch_seconds(now) + TTL_SECONDS}
    try:
        table.put(item, condition="attribute_not_exists(PK)")
        return item, True
    except ConditionFailed:
        pass
    try:
        taken = table.update(
            key, "SET leaseToken = :tok, leaseUntil = :until, #st = :sending, updatedAt = :now",
            names={"#st": "status"},
            values={":tok": token, ":until": until, ":sending": SENDING, ":sent": SENT,
                    ":now": clock.to_storage(now), ":epoch": clock.epoch_seconds(now)},
            condition="attribute_exists(PK) AND #st <> :sent AND "
                      "(attribute_not_exists(leaseUntil) OR leaseUntil < :epoch)",
            return_new=True)
        return taken or {}, False
    except ConditionFailed:
        pass
    existing = table.get(key, consistent=True)
    if existing is not None and existing.get("status") == SENT:
        return existing, False
    raise errors.idempotency_in_progress()


def mark_accepted(table: Table, key: dict[str, str], token: str, index: int, message_id: str, *,
                  chat_id: str | None = None, last: bool = False) -> None:
    """Message `index` was accepted and the next one is about to be attempted;
    the last one finishes the record instead."""
    sets = [f"message{index} = :mid", "updatedAt = :now"]
    values: dict[str, Any] = {":mid": message_id, ":tok": token, ":now": clock.to_storage(clock.now())}
    removes = ["unconfirmedMessage", "providerError"]
    if last:
        removes += ["attempting", "attemptingAt"]
    else:
        sets += ["attempting = :next", "attemptingAt = :now"]
        values[":next"] = index + 1
    if chat_id:
        sets.append("chatId = :chat")
        values[":chat"] = chat_id
    if last:
        sets.append("#st = :sent")
        values[":sent"] = SENT
        removes += ["leaseToken", "leaseUntil"]
    _guarded_update(table, key, "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes), values,
                    names={"#st": "status"} if last else None)


def mark_failed(table: Table, key: dict[str, str], token: str, status: str, *, provider_error: str | None = None,
                unconfirmed: int | None = None, chat_id: str | None = None) -> None:
    """The request stops here; the record says why and releases the lease so a
    retry with the same Idempotency-Key continues from it."""
    sets = ["#st = :st", "updatedAt = :now"]
    values: dict[str, Any] = {":st": status, ":tok": token, ":now": clock.to_storage(clock.now())}
    removes = ["leaseToken", "leaseUntil"]
    if provider_error is not None:
        sets.append("providerError = :err")
        values[":err"] = provider_error[:1000]
    if unconfirmed is not None:
        sets.append("unconfirmedMessage = :unc")
        values[":unc"] = unconfirmed
    if chat_id:
        sets.append("chatId = :chat")
        values[":chat"] = chat_id
    try:
        _guarded_update(table, key, "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes), values,
                        names={"#st": "status"})
    except errors.ApiError:
        pass  # another invocation took over; what it writes wins


def mark_position(table: Table, key: dict[str, str], token: str, chat_id: str, marker: str) -> None:
    """The chat's newest message before this request sends into it. Written
    before that send, so a record that may have a message in the chat always
    tells a retry where in the chat its messages start."""
    _guarded_update(table, key, "SET markerChatId = :chat, chatMarker = :marker, updatedAt = :now",
                    {":chat": chat_id, ":marker": marker, ":tok": token, ":now": clock.to_storage(clock.now())})


def position(record: dict[str, Any]) -> tuple[str, str] | None:
    """(chat id, marker) when the record holds one."""
    if record.get("markerChatId") and record.get("chatMarker"):
        return str(record["markerChatId"]), str(record["chatMarker"])
    return None


def first_attempt(record: dict[str, Any]) -> datetime | None:
    """When this request first tried to send (records written before the field
    existed: their creation, which came just before their first send)."""
    return clock.from_storage(record.get("firstAttemptAt") or record.get("createdAt"))


def _guarded_update(table: Table, key: dict[str, str], expression: str, values: dict[str, Any],
                    names: dict[str, str] | None = None) -> None:
    try:
        table.update(key, expression, names=names, values=values, condition="leaseToken = :tok")
    except ConditionFailed:
        # Our lease ran out and another invocation owns the record: stop sending.
        raise errors.idempotency_in_progress() from None


# --- the chat id per (provider, organization, phone) --------------------------------------------

def stored_chat(table: Table, provider: str, organization_id: str, phone: str) -> str | None:
    item = table.get(chat_key(provider, organization_id, phone))
    return str(item["chatId"]) if item and item.get("chatId") else None


def remember_chat(table: Table, provider: str, organization_id: str, phone: str, chat_id: str,
                  replaces: str | None = None) -> str:
    """Store the chat id; the id that ends up stored is returned. The first
    writer wins a race of two first-time sends (the other keeps its own chat
    for its own request); `replaces` swaps a chat the provider no longer knows."""
    now = clock.to_storage(clock.now())
    item = {**chat_key(provider, organization_id, phone), "type": "CHAT", "chatId": chat_id,
            "organizationId": organization_id, "provider": provider, "updatedAt": now}
    try:
        if replaces:
            table.put(item, condition="chatId = :old", values={":old": replaces})
        else:
            table.put(item, condition="attribute_not_exists(PK)")
        return chat_id
    except ConditionFailed:
        return stored_chat(table, provider, organization_id, phone) or chat_id
