"""A fake Linq Partner API v3 on 127.0.0.1, speaking the real protocol
(platform-apis.md §3, Linq's OpenAPI file) so the live adapter is tested over
HTTP, with scripted faults.

Self-contained on purpose (standard library only, no other fake module).

    with FakeLinq() as linq:
        adapter = LinqAdapter("test-linq-token", base_url=linq.base_url)
        linq.fail_next("POST", SEND, status=500, after_accept=True)
        ...
        assert linq.accepted_count == 3

Faithful details that matter to the adapter: media parts are answered
re-hosted (a cdn URL plus the original filename); the read model does not echo
`idempotency_key` unless `echo_idempotency_key=True`; messages are listed
newest first; cursors are opaque offsets.
"""
from __future__ import annotations

import json
import posixpath
import re
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

PREFIX = "/api/partner/v3"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Route patterns for scripting faults (matched against the path after PREFIX).
CREATE_CHAT = r"/chats"
SEND = r"/chats/[^/]+/messages"
LIST_CHATS = r"/chats"
LIST_MESSAGES = r"/chats/[^/]+/messages"
PHONE_NUMBERS = r"/phone_numbers"


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    status: int | None = None          # answer this status (with Linq's error envelope)
    code: int | None = None
    message: str | None = None
    retry_after: str | None = None
    after_accept: bool = False         # process the request (store the message) first
    hang_seconds: float | None = None  # "timeout after accepting": store, then stay silent
    skip: int = 0                      # let this many matching requests through first


@dataclass
class Received:
    method: str
    path: str                          # after PREFIX
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class _Stored:
    id: str
    chat_id: str
    parts: list[dict[str, Any]]        # as received
    idempotency_key: str | None
    created_at: str


@dataclass
class _Chat:
    id: str
    sender: str
    handles: list[str]
    created_at: str
    messages: list[_Stored] = field(default_factory=list)


_ERROR_TEXT = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
               422: "Unprocessable entity", 429: "Too many requests", 500: "Internal server error",
               502: "Bad gateway", 503: "Service unavailable"}
_ERROR_CODE = {400: 1002, 401: 2004, 403: 2005, 404: 2001, 422: 1003, 429: 4001, 500: 3006, 503: 4004}


class FakeLinq:
    def __init__(self, token: str = "test-linq-token", phone_numbers: tuple[str, ...] = ("+12052535597",),
                 *, echo_idempotency_key: bool = False, honour_idempotency: bool = True):
        self.token = token
        self.phone_numbers = list(phone_numbers)
        self.echo_idempotency_key = echo_idempotency_key
        # Linq's own duplicate guard; tests switch it off to prove the adapter does not lean on it.
        self.honour_idempotency = honour_idempotency
        self.requests: list[Received] = []
        self.chats: dict[str, _Chat] = {}
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._release = threading.Event()  # wakes hung handlers at stop()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "FakeLinq":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        server = self._server
        # stop() does not wait out the poll interval (http_server.shutdown_now).
        self._thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05),
                                        name="fake-linq", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            from tests.fakes.http_server import shutdown_now

            shutdown_now(self._server)
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeLinq":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    # --- scripting ------------------------------------------------------------------------------

    def fail_next(self, method: str, route: str, *, status: int, times: int = 1, code: int | None = None,
                  message: str | None = None, retry_after: str | None = None, after_accept: bool = False,
                  skip: int = 0) -> None:
        """The next `times` matching requests answer `status` (after storing, if `after_accept`),
        once `skip` matching ones went through."""
        with self._lock:
            self._faults.append(Fault(method.upper(), re.compile(route), times, status=status, code=code,
                                      message=message, retry_after=retry_after, after_accept=after_accept,
                                      skip=skip))

    def hang_after_accept(self, method: str, route: str, *, seconds: float, times: int = 1) -> None:
        """The next matching requests are processed, then answered only after `seconds` (past the client's timeout)."""
        with self._lock:
            self._faults.append(Fault(method.upper(), re.compile(route), times, after_accept=True,
                                      hang_seconds=seconds))

    def hang_before_accept(self, method: str, route: str, *, seconds: float, times: int = 1) -> None:
        """The next matching requests get no answer for `seconds` and are then dropped unprocessed."""
        with self._lock:
            self._faults.append(Fault(method.upper(), re.compile(route), times, hang_seconds=seconds))

    def backdate(self, seconds: float) -> None:
        """Age everything stored so far by `seconds`: what is in the chats now
        becomes an earlier day's texts (an older notify in a reused chat)."""
        with self._lock:
            for chat in self.chats.values():
                chat.created_at = _shift(chat.created_at, -seconds)
                for stored in chat.messages:
                    stored.created_at = _shift(stored.created_at, -seconds)

    # --- inspection -----------------------------------------------------------------------------

    @property
    def accepted_count(self) -> int:
        with self._lock:
            return sum(len(chat.messages) for chat in self.chats.values())

    def messages(self, chat_id: str) -> list[_Stored]:
        with self._lock:
            return list(self.chats[chat_id].messages)

    def received(self, method: str, route: str) -> list[Received]:
        pattern = re.compile(route)
        with self._lock:
            return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    # --- the API --------------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.remaining > 0 and fault.pattern.fullmatch(path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.remaining -= 1
                    return fault
        return None

    def handle(self, method: str, path: str, query: dict[str, list[str]],
               headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self.requests.append(Received(method, path, query, headers, body))
        if headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, 2004, "Invalid or missing bearer token")
        fault = self._take_fault(method, path)
        if fault is not None and not fault.after_accept:
            if fault.hang_seconds is not None:  # silent, then an error nobody reads: nothing stored
                self._release.wait(fault.hang_seconds)
                return _error(504, 4004, "Gateway timeout")
            return _fault_answer(fault)
        answer = self._route(method, path, query, body)
        if fault is not None and fault.hang_seconds is not None:
            self._release.wait(fault.hang_seconds)
            return answer
        if fault is not None:
            return _fault_answer(fault)
        return answer

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            if method == "GET" and path == "/phone_numbers":
                return _ok(200, {"phone_numbers": [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, n)), "phone_number": n}
                                                   for n in self.phone_numbers]})
            if path == "/chats" and method == "POST":
                return self._create_chat(body)
            if path == "/chats" and method == "GET":
                return self._list_chats(query)
            found = re.fullmatch(r"/chats/([^/]+)/messages", path)
            if found and method == "POST":
                return self._send(unquote(found.group(1)), body)
            if found and method == "GET":
                return self._list_messages(unquote(found.group(1)), query)
            found = re.fullmatch(r"/chats/([^/]+)", path)
            if found and method == "GET" and unquote(found.group(1)) in self.chats:
                return _ok(200, self._chat_view(self.chats[unquote(found.group(1))]))
            return _error(404, 2001, "Resource not found")

    def _create_chat(self, body: Any) -> tuple[int, dict[str, str], Any]:
        if not isinstance(body, dict):
            return _error(400, 1002, "Request body must be a JSON object")
        sender, to, message = body.get("from"), body.get("to"), body.get("message")
        if not isinstance(sender, str) or not E164.match(sender):
            return _error(400, 1002, "from: Phone number must be in E.164 format")
        if sender not in self.phone_numbers:
            return _error(403, 2005, "You do not have permission to send from this phone number")
        if not isinstance(to, list) or not 1 <= len(to) <= 31:
            return _error(400, 1002, "to: between 1 and 31 handles are required")
        for handle in to:
            if not isinstance(handle, str) or not (E164.match(handle) or EMAIL.match(handle)):
                return _error(400, 1002, f"Invalid handle '{handle}': Phone number must be in E.164 format")
        problem = _check_message(message)
        if problem:
            return _error(400, 1002, problem)
        key = message.get("idempotency_key")
        if self.honour_idempotency and key:
            for chat in self.chats.values():
                for stored in chat.messages:
                    if stored.idempotency_key == key and chat.handles == to:
                        return _ok(201, {"chat": {**self._chat_view(chat), "message": _sent_view(stored)}})
        chat = _Chat(str(uuid.uuid4()), sender, list(to), _now())
        self.chats[chat.id] = chat
        stored = self._store(chat, message)
        return _ok(201, {"chat": {**self._chat_view(chat), "message": _sent_view(stored)}})

    def _send(self, chat_id: str, body: Any) -> tuple[int, dict[str, str], Any]:
        chat = self.chats.get(chat_id)
        if chat is None:
            return _error(404, 2001, "Chat not found")
        message = body.get("message") if isinstance(body, dict) else None
        problem = _check_message(message)
        if problem:
            return _error(400, 1002, problem)
        key = message.get("idempotency_key")
        if self.honour_idempotency and key:
            for stored in chat.messages:
                if stored.idempotency_key == key:
                    return _ok(202, {"chat_id": chat.id, "message": _sent_view(stored)})
        stored = self._store(chat, message)
        return _ok(202, {"chat_id": chat.id, "message": _sent_view(stored)})

    def _store(self, chat: _Chat, message: dict[str, Any]) -> _Stored:
        stored = _Stored(str(uuid.uuid4()), chat.id, json.loads(json.dumps(message["parts"])),
                         message.get("idempotency_key"), _now())
        chat.messages.append(stored)
        return stored

    def _list_chats(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        sender = (query.get("from") or [None])[0]
        if not sender:
            return _error(400, 1002, "from is required")
        chats = [c for c in self.chats.values() if c.sender == sender]
        chats.reverse()  # most recent first
        page, next_cursor = _page(chats, query, default_limit=20)
        return _ok(200, {"chats": [self._chat_view(c) for c in page], "next_cursor": next_cursor})

    def _list_messages(self, chat_id: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        chat = self.chats.get(chat_id)
        if chat is None:
            return _error(404, 2001, "Chat not found")
        newest_first = list(reversed(chat.messages))
        page, next_cursor = _page(newest_first, query, default_limit=50)
        return _ok(200, {"messages": [self._message_view(m) for m in page], "next_cursor": next_cursor})

    # --- views (the shapes of Linq's read model) ------------------------------------------------

    def _chat_view(self, chat: _Chat) -> dict[str, Any]:
        handles = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, chat.id + h)), "handle": h, "service": "iMessage",
                    "status": "active", "joined_at": chat.created_at, "is_me": h == chat.sender}
                   for h in [chat.sender, *chat.handles]]
        return {"id": chat.id, "display_name": ", ".join(chat.handles), "service": "iMessage",
                "handles": handles, "is_archived": False, "is_group": len(chat.handles) > 1,
                "created_at": chat.created_at, "updated_at": chat.created_at}

    def _message_view(self, stored: _Stored) -> dict[str, Any]:
        view = {"id": stored.id, "chat_id": stored.chat_id, "service": "iMessage", "parts": _parts_view(stored),
                "is_from_me": True, "is_delivered": True, "is_read": False, "created_at": stored.created_at,
                "updated_at": stored.created_at, "sent_at": stored.created_at, "delivered_at": None}
        if self.echo_idempotency_key:
            view["idempotency_key"] = stored.idempotency_key
        return view


# --- helpers -----------------------------------------------------------------------------------

def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _shift(stamp: str, seconds: float) -> str:
    moved = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moved.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ok(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    return status, {}, {**body, "trace_id": f"trace_{uuid.uuid4().hex[:16]}"}


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    return status, headers or {}, {"error": {"status": status, "code": code, "message": message},
                                   "success": False, "trace_id": f"trace_{uuid.uuid4().hex[:16]}"}


def _fault_answer(fault: Fault) -> tuple[int, dict[str, str], Any]:
    status = fault.status or 500
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
    return _error(status, fault.code or _ERROR_CODE.get(status, 3006),
                  fault.message or _ERROR_TEXT.get(status, "Error"), headers)


def _page(items: list[Any], query: dict[str, list[str]], default_limit: int) -> tuple[list[Any], str | None]:
    try:
        limit = max(1, min(100, int((query.get("limit") or [default_limit])[0])))
        start = int((query.get("cursor") or ["0"])[0])
    except ValueError:
        limit, start = default_limit, 0
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)


def _check_message(message: Any) -> str | None:
    """Linq's MessageContent rules; the text is what Linq says in `error.message`."""
    if not isinstance(message, dict):
        return "message is required"
    parts = message.get("parts")
    if not isinstance(parts, list) or not 1 <= len(parts) <= 100:
        return "message.parts must contain between 1 and 100 parts"
    previous = None
    for part in parts:
        if not isinstance(part, dict) or part.get("type") not in ("text", "media"):
            return "Each part must be a text or media part"
        if part["type"] == "text":
            if not isinstance(part.get("value"), str) or not 1 <= len(part["value"]) <= 10000:
                return "Text part value must be 1 to 10000 characters"
            if previous == "text":
                return "Consecutive text parts are not allowed"
        elif ("url" in part) == ("attachment_id" in part):
            return "Media part needs exactly one of url or attachment_id"
        previous = part["type"]
    key = message.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or len(key) > 255):
        return "idempotency_key must be a string of at most 255 characters"
    return None


def _parts_view(stored: _Stored) -> list[dict[str, Any]]:
    """Text as sent; media re-hosted the way Linq answers it (cdn URL + original filename)."""
    view = []
    for part in stored.parts:
        if part["type"] == "text":
            view.append({"type": "text", "value": part["value"], "reactions": None})
        else:
            source = part.get("url") or part.get("attachment_id", "")
            name = unquote(posixpath.basename(urlparse(source).path)) or "attachment"
            attachment = str(uuid.uuid5(uuid.NAMESPACE_URL, stored.id + source))
            view.append({"type": "media", "id": attachment,
                         "url": f"https://cdn.linqapp.com/attachments/{attachment}/{name}?signature=fake",
                         "filename": name, "mime_type": "application/octet-stream", "size_bytes": 1024,
                         "reactions": None})
    return view


def _sent_view(stored: _Stored) -> dict[str, Any]:
    return {"id": stored.id, "service": "iMessage", "preferred_service": None, "parts": _parts_view(stored),
            "sent_at": stored.created_at, "delivered_at": None, "delivery_status": "queued", "is_read": False}


def _handler_for(fake: FakeLinq) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real API gateway
        timeout = 5                    # an idle kept-alive connection does not pin a thread forever

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle and
            # delayed ACKs add ~40 ms to every local request.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            url = urlparse(self.path)
            path = url.path[len(PREFIX):] if url.path.startswith(PREFIX) else None
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if path is None:
                status, headers, body = _error(404, 2001, "Resource not found")
            else:
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    status, headers, body = _error(400, 1002, "Malformed JSON body")
                else:
                    status, headers, body = fake.handle(self.command, path, parse_qs(url.query),
                                                        {k.lower(): v for k, v in self.headers.items()}, parsed)
            data = json.dumps(body).encode("utf-8")
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (the "timeout after accepting" mode)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read fake.requests
            pass

    return Handler
