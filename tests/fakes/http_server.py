"""A tiny threaded fake HTTP server for adapter tests.

It binds 127.0.0.1 on a random port, records every request, and lets a test
script faults per route: a canned answer (status + body), a delay longer than
the client's timeout, or a dropped connection. Subclasses answer the rest
like the real API would by overriding `handle`.

Fault semantics:
- `Fault(status=…)` answers with that instead of running `handle` (the
  server's state does not change: the request "did not happen").
- `Fault()` without status runs `handle` first (state changes), then applies
  `delay` / `drop`: the "it happened but the answer was lost" case.
- `drop=True` closes the connection without writing an answer.
"""
from __future__ import annotations

import contextlib
import json
import re
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def form(self) -> dict[str, str]:
        if "application/x-www-form-urlencoded" not in self.headers.get("content-type", ""):
            return {}
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    @property
    def params(self) -> dict[str, str]:
        """Query, form and JSON-object fields together (Graph accepts all three)."""
        merged = dict(self.query)
        merged.update(self.form)
        if isinstance(self.json, dict):
            merged.update({k: v for k, v in self.json.items()})
        return merged

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON, str → text, None → empty
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []  # exceptions raised by `handle` (a broken fake)
        self._faults: list[list[Any]] = []     # [method, path regex, query subset, Fault, remaining]
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------

    def start(self) -> "FakeServer":
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping on a delay fault
        if self._server is not None:
            shutdown_now(self._server)
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting and inspection ---------------------------------------

    def fault(self, method: str, path: str, fault: Fault, times: int = 1,
              query: dict[str, str] | None = None) -> None:
        """The next `times` requests matching `method`, the `path` regex (full
        match) and, if given, these `query` parameters get `fault`. Faults are
        consumed in the order added."""
        with self._lock:
            self._faults.append([method.upper(), re.compile(path), dict(query or {}), fault, times])

    def calls(self, method: str | None = None, path: str | None = None) -> list[Request]:
        pattern = re.compile(path) if path else None
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r.method == method.upper())
                    and (pattern is None or pattern.fullmatch(r.path))]

    def handle(self, request: Request) -> Response:
        return Response(404, {"error": "not found"})

    # -- internals ------------------------------------------------------

    def _record(self, request: Request) -> Fault | None:
        with self._lock:
            self.requests.append(request)
            for entry in self._faults:
                method, pattern, query, fault, remaining = entry
                if (remaining > 0 and method == request.method and pattern.fullmatch(request.path)
                        and all(request.query.get(k) == v for k, v in query.items())):
                    entry[4] -= 1
                    return fault
        return None

    def _answer(self, request: Request) -> Response:
        try:
            with self._lock:  # one request at a time mutates the fake's world
                return self.handle(request)
        except Exception as exc:  # a bug in the fake, surfaced to the test
            self.errors.append(exc)
            return Response(599, {"fake_error": repr(exc)})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # do not wait for handlers stuck in a delay
    fake: FakeServer


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a dropped answer never poisons
    # a pooled keep-alive connection of the next test.
    protocol_version = "HTTP/1.0"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                          {k.lower(): v for k, v in self.headers.items()}, body)
        fake = self.server.fake
        fault = fake._record(request)
        if fault is not None and fault.status is not None:
            response = Response(fault.status, fault.body, dict(fault.headers))
        else:
            response = fake._answer(request)
        if fault is not None and fault.delay:
            fake._stopping.wait(fault.delay)
        if fault is not None and fault.drop:
            self.close_connection = True
            return
        self._write(response)

    def _write(self, response: Response) -> None:
        if isinstance(response.body, (dict, list)):
            payload, ctype = json.dumps(response.body).encode(), "application/json; charset=UTF-8"
        elif isinstance(response.body, str):
            payload, ctype = response.body.encode(), "text/plain; charset=UTF-8"
        else:
            payload, ctype = b"", "application/json"
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests): nothing to tell

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


def shutdown_now(server: socketserver.BaseServer) -> None:
    """`server.shutdown()` without waiting out `serve_forever`'s poll interval (once per
    test, over a second of every unit run): the stop request is set first, as
    `shutdown()` itself does (CPython's socketserver), then one connection to the
    server's own port wakes its select to see it. Should either fail, `shutdown()`
    still stops the server at the next poll."""
    server._BaseServer__shutdown_request = True  # type: ignore[attr-defined]
    with contextlib.suppress(OSError):
        socket.create_connection(server.server_address[:2], timeout=0.05).close()
    server.shutdown()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused (NotSent)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
