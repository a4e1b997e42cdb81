"""The device handoff's three messages and what a send record says is left to
do. Pure: the use case (services/notify.py) does the I/O.

Exactly three messages, nothing else (decisions.md): the media, the caption
(with the first comment when there is one), the posting instructions.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layers_shared.messaging.port import Message, Part

if TYPE_CHECKING:  # annotations only: the send-record store imports these rules without building entities
    from layers_shared.domain.ports import SendRecord
    from layers_shared.models.entities import Container

MESSAGE_COUNT = 3
MEDIA, CAPTION, INSTRUCTIONS = 1, 2, 3
MAX_TEXT = 10_000  # Linq's limit for one text part

# The send record (ports.SendRecords): whoever works on it holds a lease longer
# than the function may run (29 s), so two invocations never send for it at once.
LEASE_SECONDS = 60
SENDING, SENT = "sending", "sent"
# Why a request stopped; a retry with the same Idempotency-Key continues from the record.
REJECTED, UNCONFIRMED, UNAVAILABLE, INTERRUPTED = "rejected", "unconfirmed", "unavailable", "interrupted"
MAX_PROVIDER_ERROR = 1000  # of the provider's text kept on the record
NO_CAPTION = "No caption was written for this post."
FIRST_COMMENT_LABEL = "First comment (post it under your post once it is live):"


def media_parts(container: Container) -> list[Part]:
    return [Part("media", m.url) for m in container.media]


def caption_text(container: Container) -> str:
    """One text part (Linq refuses two text parts in a row): the caption alone on
    top, so it can be copied as is, then the first comment, labelled."""
    caption = (container.caption or "").strip()
    comment = (container.firstComment or "").strip()
    text = caption or NO_CAPTION
    if comment:
        text = f"{text}\n\n{FIRST_COMMENT_LABEL}\n{comment}"
    return text[:MAX_TEXT]


def instructions_platform(platforms: Iterable[str]) -> str | None:
    """The platform the instructions are written for: the one platform of the
    project's social accounts, or None (the instructions cover both apps) when
    the project has none or both. See docs/adr/0052."""
    found = {p for p in platforms if p in ("tiktok", "instagram")}
    return found.pop() if len(found) == 1 else None


def plan(container: Container, instructions: str) -> list[list[dict[str, str]]]:
    """The three messages as stored in the send record (parts as plain dicts), so
    that a retry sends exactly what the first attempt planned."""
    text = (instructions or "").strip()[:MAX_TEXT] or "Save the media above and post it from the app."
    return [
        [{"type": p.type, "value": p.value} for p in media_parts(container)],
        [{"type": "text", "value": caption_text(container)}],
        [{"type": "text", "value": text}],
    ]


def message_of(planned: list[list[dict[str, str]]], index: int, record_id: str) -> Message:
    """Message `index` (1-based) with its stable provider idempotency key."""
    parts = tuple(Part(p["type"], p["value"]) for p in planned[index - 1])  # type: ignore[arg-type]
    return Message(parts, provider_key(record_id, index))


def request_scope(key_id: str, idempotency_key: str | None, request_id: str) -> str:
    """Same API key + same Idempotency-Key -> the same send record; without a key
    every request is its own (the partner asked for a second text)."""
    if idempotency_key is None:
        return f"req-{request_id}"
    return "idem-" + hashlib.sha256(f"{key_id}\n{idempotency_key}".encode()).hexdigest()[:40]


def provider_key(record_id: str, index: int) -> str:
    """Stable per (send record, message): a retry of the same request reuses it,
    so the provider's own duplicate guard sees the same key."""
    return f"notify-{record_id}-{index}"


@dataclass(frozen=True)
class Progress:
    """What a send record says about each message."""
    accepted: dict[int, str]      # message index -> provider message id ("" when the id is unknown)
    unconfirmed: int | None       # a message that may have reached the provider: read it back before sending
    chat_id: str | None

    @classmethod
    def of(cls, record: SendRecord, *, resumed: bool = True) -> "Progress":
        """`resumed`: the record was written by an earlier invocation. Then the
        message it was attempting (or could not confirm) may be at the provider
        although the record never heard back: the process may have died, or
        its lease run out, between the send and the update."""
        accepted = {i: record.messages[i] for i in range(1, MESSAGE_COUNT + 1) if i in record.messages}
        in_flight = [i for i in (record.unconfirmed, record.attempting) if i]
        unconfirmed = next((i for i in in_flight if i not in accepted), None) if resumed else None
        return cls(accepted, unconfirmed, record.chat_id or None)

    def remaining(self) -> list[int]:
        """Messages still to send, in order; never one before an earlier one was accepted."""
        return [i for i in range(1, MESSAGE_COUNT + 1) if i not in self.accepted]

    @property
    def complete(self) -> bool:
        return not self.remaining()
