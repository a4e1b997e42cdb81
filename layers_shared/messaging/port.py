"""The messaging port (iMessage/SMS through Linq, or the sandbox).

Sends are not idempotent at the provider in general, so every send carries an
idempotency key, and a send whose answer was lost raises `SendOutcomeUnknown`:
the caller confirms with `find_chat` / `has_message` before anything is resent.
Providers that do not echo idempotency keys when read (Linq) match on `parts`,
and parts alone cannot tell this send from an identical older one in a reused
chat (yesterday's caption of the same container): so a read-back also takes
`not_before`, the caller's recorded first attempt, and only a message sent at or
after it (less the adapter's small clock-skew allowance) counts as found.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, Sequence


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

    def send(self, chat_id: str, message: Message) -> str: ...

    def find_chat(self, to: str, first_idempotency_key: str, *, parts: Sequence[Part] | None = None,
                  not_before: datetime | None = None) -> str | None: ...

    def has_message(self, chat_id: str, idempotency_key: str, *, parts: Sequence[Part] | None = None,
                    not_before: datetime | None = None) -> bool: ...
