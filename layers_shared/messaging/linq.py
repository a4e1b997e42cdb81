"""The live messaging adapter: Linq Partner API v3 (platform-apis.md §3).

At-most-once is the point of this module. A send is never repeated blindly:
after a 5xx or a lost answer (`OutcomeUnknown`) the chat is read back first,
and only a send that is confirmed absent is tried again. Linq's own
`idempotency_key` is sent too, as a second guard, but not relied upon: its
semantics on a duplicate are not documented.

Linq's read model does not echo `idempotency_key` (it is not in the v3
`Message` schema), so a message is recognised by that field when present, else
by its parts. Parts are known for what this instance sent; a caller in a later
invocation passes them to `find_chat` / `has_message` (`parts=`). An identical
message from an earlier notify in the same reused chat is not ours: the caller
passes `after`, a message id it saw in the chat before its send, and only
messages listed before it (newer: pages come newest first, platform-apis.md
§3.4 and the fake) count. Without one, `not_before` (its recorded first
attempt) bounds the read by time instead.
"""
from __future__ import annotations

import json
import logging
import os
import posixpath
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, unquote, urlparse

from layers_shared.http_client import HttpClient, HttpResponse, NotSent, OutcomeUnknown
from layers_shared.messaging.port import (
    CHAT_START, Message, Part, ProviderRejected, ProviderUnavailable, SendOutcomeUnknown, SentChat,
)
from layers_shared.secrets import managed

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.linqapp.com/api/partner/v3"
T = TypeVar("T")

# A message found by parts may predate our recorded first attempt by this much
# and no more: it only absorbs Linq's clock running behind ours (the allowance
# reaches backwards only; anything later than the attempt is fine anyway). An
# identical text sent earlier than that (an earlier notify) is not ours.
READ_BACK_SKEW = timedelta(seconds=10)


# --- the token ---------------------------------------------------------------------------------

class TokenSource(Protocol):
    refreshable: bool  # True when a 401 is worth one re-read (a rotated secret)

    def get(self) -> str: ...

    def invalidate(self) -> None: ...


# Per execution environment: a warm Lambda reads the secret once (the shared
# mechanism, layers_shared/secrets/managed.py).
_secret_cache = managed.CACHE


class _SecretToken(managed.SecretValue):
    """The token from Secrets Manager, read on first use (not at import or construction)."""

    def __init__(self, arn: str):
        super().__init__(arn, extract=_token_from_secret)

    def get(self) -> str:
        try:
            return super().get()
        except managed.SecretUnavailable as exc:
            raise ProviderUnavailable(f"The Linq token {exc}") from None


def _token_from_secret(raw: str) -> str:
    """The secret may be the bare token or a JSON object holding it."""
    raw = raw.strip()
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except ValueError:
            return ""
        for name in ("token", "LINQ_API_TOKEN", "apiToken", "api_token"):
            if isinstance(data.get(name), str) and data[name].strip():
                return data[name].strip()
        return ""
    return raw


# The sender number per base URL, so a warm environment lists numbers once.
_sender_cache: dict[str, str] = {}


# --- the adapter -------------------------------------------------------------------------------

class LinqAdapter:
    """`MessagingPort` over Linq. Construct with `from_env()` in handlers."""

    def __init__(self, token: str | TokenSource, *, base_url: str = DEFAULT_BASE,
                 from_number: str | None = None, http: HttpClient | None = None,
                 connect_timeout: float = 3.0, read_timeout: float = 8.0, max_attempts: int = 3,
                 backoff: float = 0.25, max_retry_after: float = 2.0, budget_seconds: float = 20.0,
                 page_limit: int = 100, max_pages: int = 10,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self._token = managed.LocalValue(token) if isinstance(token, str) else token
        self.base_url = base_url.rstrip("/")
        self._from_number = from_number
        self._http = http or HttpClient(self.base_url, connect_timeout=connect_timeout, read_timeout=read_timeout,
                                        default_headers={"Accept": "application/json"})
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        # Retry-After is honoured but capped: a Lambda behind API Gateway has
        # ~29 s in all, and a long wait is better spent answering 502/503.
        self.max_retry_after = max_retry_after
        self.budget_seconds = budget_seconds
        self.page_limit = page_limit
        self.max_pages = max_pages
        self._sleep = sleep
        self._clock = clock
        # Parts of what this instance sent, by idempotency key (bounded), for
        # recognising a message whose send answer was lost.
        self._parts_by_key: OrderedDict[str, tuple[Part, ...]] = OrderedDict()

    @classmethod
    def from_env(cls) -> "LinqAdapter | None":
        """The adapter from configuration, or None when no token is configured (caller answers 503)."""
        token = _env("LINQ_API_TOKEN")
        arn = _env("LINQ_TOKEN_SECRET_ARN")
        if token:
            source: TokenSource = managed.LocalValue(token)
        elif arn:
            source = _SecretToken(arn)
        else:
            return None
        return cls(source, base_url=_env("LINQ_API_BASE") or DEFAULT_BASE, from_number=_env("LINQ_FROM_NUMBER"),
                   read_timeout=_float_env("LINQ_READ_TIMEOUT_SECONDS", 8.0))

    def __repr__(self) -> str:  # never print the token
        return f"LinqAdapter(base_url={self.base_url!r})"

    # --- MessagingPort --------------------------------------------------------------------------

    def create_chat(self, to: str, first: Message) -> SentChat:
        sender = self.sender_number()
        self._remember(first)
        started = _utcnow()
        body = {"from": sender, "to": [to], "message": _content(first)}

        def parse(data: Any) -> SentChat | None:
            chat = data.get("chat") if isinstance(data, dict) else None
            if not isinstance(chat, dict) or not chat.get("id"):
                return None
            message = chat.get("message") if isinstance(chat.get("message"), dict) else {}
            return SentChat(str(chat["id"]), [str(message["id"])] if message.get("id") else [])

        def confirm() -> SentChat | None:
            found = self._locate(to, first.idempotency_key, first.parts, started)
            return SentChat(found[0], [found[1]]) if found else None

        return self._submit("/chats", body, parse, confirm)

    def send(self, chat_id: str, message: Message, *, after: str | None = None) -> str:
        self._remember(message)
        started = _utcnow()
        body = {"message": _content(message)}

        def parse(data: Any) -> str | None:
            sent = data.get("message") if isinstance(data, dict) else None
            return str(sent["id"]) if isinstance(sent, dict) and sent.get("id") else None

        def confirm() -> str | None:
            return self._find_message(chat_id, message.idempotency_key, message.parts, started, after)

        return self._submit(f"/chats/{_seg(chat_id)}/messages", body, parse, confirm)

    def latest_message(self, chat_id: str) -> str:
        """The chat's newest message id (CHAT_START when it has none, or is gone:
        then the send that follows answers 404 and the caller opens a new chat)."""
        data = self._get(f"/chats/{_seg(chat_id)}/messages", {"limit": 1})
        messages = data.get("messages") if isinstance(data, dict) else None
        first = messages[0] if isinstance(messages, list) and messages else None
        return str(first["id"]) if isinstance(first, dict) and first.get("id") else CHAT_START

    def find_chat(self, to: str, first_idempotency_key: str, *, parts: Sequence[Part] | None = None,
                  not_before: datetime | None = None, after: Mapping[str, str] | None = None) -> str | None:
        found = self._locate(to, first_idempotency_key, parts, not_before, after)
        return found[0] if found else None

    def has_message(self, chat_id: str, idempotency_key: str, *, parts: Sequence[Part] | None = None,
                    not_before: datetime | None = None, after: str | None = None) -> bool:
        return self._find_message(chat_id, idempotency_key, parts, not_before, after) is not None

    def sender_number(self) -> str:
        """`LINQ_FROM_NUMBER`, else the first of the partner's numbers (decisions.md)."""
        if self._from_number:
            return self._from_number
        cached = _sender_cache.get(self.base_url)
        if cached:
            self._from_number = cached
            return cached
        data = self._get("/phone_numbers") or {}
        numbers = [n.get("phone_number") for n in data.get("phone_numbers") or [] if isinstance(n, dict)]
        numbers = [n for n in numbers if n]
        if not numbers:
            raise ProviderUnavailable("Linq lists no phone number to send from.")
        self._from_number = _sender_cache[self.base_url] = numbers[0]
        return numbers[0]

    # --- sending without ever sending twice -----------------------------------------------------

    def _submit(self, path: str, body: dict[str, Any], parse: Callable[[Any], T | None],
                confirm: Callable[[], T | None]) -> T:
        deadline = self._clock() + self.budget_seconds
        must_confirm = False   # the previous attempt may have been accepted
        ever_uncertain = False
        refreshed = False
        last = "no attempt"
        attempt = 0
        while attempt < self.max_attempts:
            attempt += 1
            if must_confirm:
                found = self._confirm_or_unknown(confirm, path)
                if found is not None:
                    return found
                must_confirm = False
            resp: HttpResponse | None = None
            try:
                resp = self._http.request("POST", path, json_body=body, headers=self._auth())
            except NotSent:
                last, wait = "connection failed", self._backoff(attempt)
            except OutcomeUnknown:
                last, wait = "no answer", self._backoff(attempt)
                must_confirm = ever_uncertain = True
            else:
                if 200 <= resp.status < 300:
                    result = parse(resp.json())
                    if result is None:  # accepted, but the answer is unreadable: learn the id by reading
                        result = self._confirm_or_unknown(confirm, path)
                        if result is None:
                            raise SendOutcomeUnknown(f"Linq accepted POST {path} but its answer was unreadable.")
                    return result
                if resp.status == 429:  # refused before processing: nothing to confirm
                    last = "rate limited"
                    wait = min(resp.retry_after() or self._backoff(attempt), self.max_retry_after)
                elif resp.status >= 500:  # may have been processed before failing
                    last, wait = f"HTTP {resp.status}", self._backoff(attempt)
                    must_confirm = ever_uncertain = True
                elif resp.status == 401 and self._token.refreshable and not refreshed:
                    self._token.invalidate()  # a rotated secret: read it again, once
                    refreshed, attempt, wait = True, attempt - 1, 0.0
                    last = "unauthorized"
                else:
                    if ever_uncertain:  # e.g. Linq refusing a duplicate key: the first one landed
                        found = self._confirm_or_unknown(confirm, path)
                        if found is not None:
                            return found
                    raise self._rejected(resp)
                log.warning("linq POST %s: %s (attempt %d, trace %s)", path, last, attempt, _trace(resp))
            if attempt >= self.max_attempts or self._clock() + wait > deadline:
                break
            if wait > 0:
                self._sleep(wait)
        if must_confirm:
            found = self._confirm_or_unknown(confirm, path)
            if found is not None:
                return found
            if last == "no answer":
                raise SendOutcomeUnknown(f"No answer from Linq for POST {path}, and the message was not found.")
        raise ProviderUnavailable(f"Linq is unavailable ({last}).")

    def _confirm_or_unknown(self, confirm: Callable[[], T | None], path: str) -> T | None:
        """Read back; if the read itself fails the send's outcome stays unknown."""
        try:
            return confirm()
        except (ProviderUnavailable, ProviderRejected) as exc:
            log.warning("linq confirm after POST %s failed: %s", path, type(exc).__name__)
            raise SendOutcomeUnknown(f"Could not confirm POST {path} with Linq.") from None

    # --- reading back ---------------------------------------------------------------------------

    def _locate(self, to: str, key: str, parts: Sequence[Part] | None, not_before: datetime | None,
                after: Mapping[str, str] | None = None) -> tuple[str, str] | None:
        """(chat id, message id) of our message `key` in a chat with `to`, if any.
        `after` bounds the chats the caller knew a position in; the rest by time."""
        query = {"from": self.sender_number(), "limit": self.page_limit}
        for chat in self._pages("/chats", "chats", query):
            if not isinstance(chat, dict) or not chat.get("id") or not _has_handle(chat, to):
                continue
            message_id = self._find_message(str(chat["id"]), key, parts, not_before,
                                            (after or {}).get(str(chat["id"])))
            if message_id:
                return str(chat["id"]), message_id
        return None

    def _find_message(self, chat_id: str, key: str, parts: Sequence[Part] | None,
                      not_before: datetime | None, after: str | None = None) -> str | None:
        expected = tuple(parts) if parts is not None else self._parts_by_key.get(key)
        path = f"/chats/{_seg(chat_id)}/messages"
        for message in self._pages(path, "messages", {"limit": self.page_limit}):
            if not isinstance(message, dict):
                continue
            if after is not None and str(message.get("id") or "") == after:
                return None  # newest first: the rest was in the chat before our send
            # A position makes the time bound moot, and a time bound would miss our
            # own message whenever Linq's clock runs behind ours.
            if _is_ours(message, key, expected, None if after is not None else not_before):
                return str(message.get("id") or "") or None
        return None

    def _pages(self, path: str, field: str, query: dict[str, Any]) -> Iterator[Any]:
        cursor: str | None = None
        for _ in range(self.max_pages):  # bounded: a read-back must fit the request's time budget
            data = self._get(path, {**query, "cursor": cursor})
            if not isinstance(data, dict):
                return
            yield from data.get(field) or []
            cursor = data.get("next_cursor")
            if not cursor:
                return

    def _get(self, path: str, query: dict[str, Any] | None = None) -> Any:
        """A GET, retried on anything transient (reads are safe to repeat). None on 404."""
        refreshed = False
        last = "no attempt"
        attempt = 0
        while attempt < self.max_attempts:
            attempt += 1
            try:
                resp = self._http.request("GET", path, query=query, headers=self._auth())
            except (NotSent, OutcomeUnknown) as exc:
                last, wait = type(exc).__name__, self._backoff(attempt)
            else:
                if 200 <= resp.status < 300:
                    return resp.json()
                if resp.status == 404:
                    return None
                if resp.status == 429:
                    last = "rate limited"
                    wait = min(resp.retry_after() or self._backoff(attempt), self.max_retry_after)
                elif resp.status >= 500:
                    last, wait = f"HTTP {resp.status}", self._backoff(attempt)
                elif resp.status == 401 and self._token.refreshable and not refreshed:
                    self._token.invalidate()
                    refreshed, attempt, wait = True, attempt - 1, 0.0
                else:
                    raise self._rejected(resp)
            if attempt < self.max_attempts and wait > 0:
                self._sleep(wait)
        raise ProviderUnavailable(f"Linq is unavailable ({last}).")

    # --- small helpers --------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.get()}"}

    def _backoff(self, attempt: int) -> float:
        return self.backoff * (2 ** (attempt - 1))

    def _remember(self, message: Message) -> None:
        self._parts_by_key[message.idempotency_key] = tuple(message.parts)
        self._parts_by_key.move_to_end(message.idempotency_key)
        while len(self._parts_by_key) > 256:
            self._parts_by_key.popitem(last=False)

    def _rejected(self, resp: HttpResponse) -> ProviderRejected:
        data = resp.json()
        error = data.get("error") if isinstance(data, dict) else None
        message, code = f"Linq answered HTTP {resp.status}.", None
        if isinstance(error, dict):
            message = str(error.get("message") or message)
            code = str(error["code"]) if error.get("code") is not None else None
        log.warning("linq rejected: HTTP %s code %s (trace %s)", resp.status, code, _trace(resp))
        return ProviderRejected(self._scrub(message), status=resp.status, code=code)

    def _scrub(self, text: str) -> str:
        """Belt and braces: an echoed token never reaches an error we raise."""
        try:
            token = self._token.get()
        except ProviderUnavailable:
            return text
        return text.replace(token, "***") if token else text


# --- pure helpers ------------------------------------------------------------------------------

def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


def _float_env(name: str, default: float) -> float:
    try:
        return float(_env(name) or default)
    except ValueError:
        log.warning("%s is not a number; using %s", name, default)
        return default


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _seg(value: str) -> str:
    return quote(value, safe="")


def _content(message: Message) -> dict[str, Any]:
    return {"parts": [part.to_linq() for part in message.parts], "idempotency_key": message.idempotency_key}


def _trace(resp: HttpResponse | None) -> str | None:
    if resp is None:
        return None
    data = resp.json()
    return data.get("trace_id") if isinstance(data, dict) else None


def _normal_handle(value: str) -> str:
    return value.strip().lower()


def _has_handle(chat: dict[str, Any], to: str) -> bool:
    wanted = _normal_handle(to)
    for handle in chat.get("handles") or []:
        value = handle.get("handle") if isinstance(handle, dict) else handle
        if isinstance(value, str) and _normal_handle(value) == wanted:
            return True
    return False


def _is_ours(message: dict[str, Any], key: str, expected: Sequence[Part] | None,
             not_before: datetime | None) -> bool:
    if message.get("is_from_me") is False:
        return False
    echoed = message.get("idempotency_key")
    if echoed:  # authoritative when Linq gives it
        return echoed == key
    if not expected:
        return False
    if not_before is not None:
        # Linq always stamps messages; should a stamp be unreadable we keep the
        # match: "maybe someone else's" then ends as at most one text, never two.
        when = _parse_time(message.get("created_at") or message.get("sent_at"))
        if when is not None and when < not_before - READ_BACK_SKEW:
            return False
    return _same_parts(message.get("parts") or [], expected)


def _same_parts(theirs: Sequence[Any], ours: Sequence[Part]) -> bool:
    if len(theirs) != len(ours):
        return False
    for their, our in zip(theirs, ours):
        if not isinstance(their, dict) or their.get("type") != our.type:
            return False
        if our.type == "text":
            if their.get("value") != our.value:
                return False
        elif not _same_media(their, our.value):
            return False
    return True


def _same_media(their: dict[str, Any], our_url: str) -> bool:
    """Linq re-hosts media (its read model answers a cdn.linqapp.com URL plus the
    original filename), so the URL alone cannot be compared."""
    their_url = their.get("url")
    if their_url == our_url:
        return True
    ours = _basename(our_url)
    if not ours:
        return False
    names = {their.get("filename"), _basename(their_url) if isinstance(their_url, str) else None}
    return ours in names


def _basename(url: str) -> str:
    return unquote(posixpath.basename(urlparse(url).path))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
