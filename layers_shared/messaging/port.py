"""The messaging port (iMessage/SMS through Linq, or the sandbox).

Sends are not idempotent at the provider in general, so every send carries an
idempotency key, and a send whose answer was lost raises `SendOutcomeUnknown`:
the caller confirms with `find_chat` / `has_message` before anything is resent.
Providers that do not echo idempotency keys when read (Linq) match on `parts`,
and parts alone cannot tell this send from an identical older one in a reused
chat (yesterday's caption, or the same container texted seconds ago by
another request). So a read-back is bounded by the chat's position: `after`
is the id of a message the caller saw in the chat before its send
(`latest_message`, or its own previous message), and only messages listed
after it count (docs/adr/0056). Without a position, `not_before` (the caller's
recorded first attempt, less the adapter's clock-skew allowance) bounds it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Mapping, Protocol, Sequence

# A position before every message of a chat: `latest_message` of an empty chat.
# Not a provider id (Linq's are UUIDs), so it is never met while reading.
CHAT_START = "chat-start"


@dataclass(frozen=True)
class Part:
    type: Literal["text", "media"]
    value: str  # the text, or the media URL

    def to_linq(self) -> dict[str, str]:
        return {"type": "text", "value": self.value} if self.type == "text" else {"type": "media", "url": self.value}


@dataclass(frozen=True)
class Message:
    parts: tuple[Part, ...]
    idempotency_key: str


@dataclass
class SentChat:
    chat_id: str
    message_ids: list[str] = field(default_factory=list)


class ProviderRejected(Exception):
    """The provider refused the message (a 4xx); `message` is the provider's text."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class ProviderUnavailable(Exception):
    """No provider configured, or it kept failing (429/5xx) within our budget."""


class SendOutcomeUnknown(Exception):
    """The send left but no answer came back: confirm by reading, never resend blindly."""


class MessagingPort(Protocol):
    def create_chat(self, to: str, first: Message) -> SentChat: ...

    def send(self, chat_id: str, message: Message, *, after: str | None = None) -> str: ...

    def latest_message(self, chat_id: str) -> str: ...

    def find_chat(self, to: str, first_idempotency_key: str, *, parts: Sequence[Part] | None = None,
                  not_before: datetime | None = None, after: Mapping[str, str] | None = None) -> str | None: ...

    def has_message(self, chat_id: str, idempotency_key: str, *, parts: Sequence[Part] | None = None,
                    not_before: datetime | None = None, after: str | None = None) -> bool: ...
