"""`make run`: the local stack on http://127.0.0.1:$PORT (default 3000).

Reads the routes from template.yaml, turns each request into the API Gateway
proxy event, calls the same handler the Lambda runs, with AWS in moto.
"""
from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from local import aws_world, events, routes

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = ROOT / "local" / "seed" / "default.json"
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit

# Extra local-only routes (never deployed): path -> callable returning (status, body)
# with a JSON-able body, or (status, body, content_type) with a str/bytes body.
local_routes: dict[tuple[str, str], Callable[[], tuple[Any, ...]]] = {}


class Stack:
    """Everything the local stack runs: moto, the seed, the routes, the workers."""

    def __init__(self, seed_path: str | Path | None = None, table: str = "layers-local", aws: str = "moto",
                 streams: bool = True):
        # aws="server": a moto server in its own process (AWS_ENDPOINT_URL), which the
        # AWS CLI and `sam local start-api` can reach too; the table is then the template's.
        # streams=False: no webhook events are read (see aws_world.start).
        self.mock = aws_world.connect() if aws == "server" else aws_world.start(table, streams=streams)
        from layers_shared import seed
        from layers_shared.secrets.vault import KmsTokenVault
        from layers_shared.store.table import Table

        self.table = Table()
        self.seed_path = Path(seed_path) if seed_path else DEFAULT_SEED
        self.fixture = seed.parse(json.loads(self.seed_path.read_text(encoding="utf-8")))
        self.counts = seed.load(self.fixture, self.table, KmsTokenVault(self.table))
        self.routes = routes.api_routes()
        self.background: list[Any] = []
        for hook in _startup_hooks:
            hook(self)

    def find(self, method: str, path: str) -> tuple[routes.Route, dict[str, str]] | None:
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None

    def invoke(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        found = self.find(method, parts.path)
        if found is None:
            return _not_found(method, parts.path)
        route, params = found
        event = events.proxy_event(method=method, path=parts.path, query=parts.query, headers=headers,
                                   body=body, resource=route.path, path_params=params)
        handler = routes.load_handler(route.code_uri, route.handler)
        result = handler(event, events.LambdaContext(route.function))
        out_headers = dict(result.get("headers") or {})
        for k, values in (result.get("multiValueHeaders") or {}).items():
            out_headers[k] = ",".join(values)
        payload = result.get("body") or ""
        data = payload.encode() if isinstance(payload, str) else payload
        return int(result["statusCode"]), out_headers, data

    def stop(self) -> None:
        for worker in self.background:
            stop = getattr(worker, "stop", None)
            if stop:
                stop()
        self.mock.stop()


_startup_hooks: list[Callable[[Stack], None]] = []


def on_startup(hook: Callable[[Stack], None]) -> Callable[[Stack], None]:
    """Register a hook that runs when a Stack starts (publisher loop, sandbox routes)."""
    _startup_hooks.append(hook)
    return hook


def _envelope(status: int, code: str, message: str, details: dict[str, Any] | None = None
              ) -> tuple[int, dict[str, str], bytes]:
    """An answer of the stack itself, in the same envelope the handlers use."""
    from layers_shared import ids

    request_id = ids.new_request_id()
    body = {"error": {"code": code, "message": message, "requestId": request_id, "details": details or {}}}
    return status, {"Content-Type": "application/json", "X-Request-Id": request_id}, json.dumps(body).encode()


def _not_found(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    return _envelope(404, "NOT_FOUND", f"No route for {method} {path}.")


def _local_answer(answer: tuple[Any, ...]) -> tuple[int, str, bytes]:
    if len(answer) == 3:
        status, payload, content_type = answer
        return status, content_type, payload.encode() if isinstance(payload, str) else payload
    status, payload = answer
    return status, "application/json", json.dumps(payload).encode()


def make_server(stack: Stack, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(*_envelope(413, "VALIDATION", "Request body too large (API Gateway's limit is 10 MB).",
                                      {"issues": [{"path": "", "code": "too_large", "message": "max 10 MB"}]}))
                return
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            local = local_routes.get((self.command, path))
            if local is not None:
                status, content_type, data = _local_answer(local())
                self._send(status, {"Content-Type": content_type}, data)
                return
            headers = {k: v for k, v in self.headers.items()}
            try:
                status, out_headers, data = stack.invoke(self.command, self.path, headers, body)
            except Exception as exc:  # the handlers never raise; this is the stack itself
                status, out_headers, data = _envelope(500, "INTERNAL", f"local stack: {exc}")
            self._send(status, out_headers, data)

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in ("content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        # Any other method gets the envelope too (404: no such route), never an HTML 501.
        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_TRACE = do_QUERY = _serve

        def log_message(self, fmt: str, *args: Any) -> None:
            if os.environ.get("LOCAL_ACCESS_LOG"):
                sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # bursts of concurrent partners must not be reset

    server = Server((host, port), Handler)
    server.daemon_threads = True
    return server


def serve_in_thread(stack: Stack, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    server = make_server(stack, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def first_test_key(stack: Stack) -> str | None:
    for key in stack.fixture.apiKeys:
        if key.key.startswith("lp_test_") and not key.revoked and "*" in key.scopes:
            return key.key
    return None


def main() -> None:
    import local.plugins  # noqa: F401  (registers the publisher loop and sandbox routes)

    port = int(os.environ.get("PORT", "3000"))
    mode = os.environ.get("AWS") or "moto"
    if mode not in ("moto", "server"):
        sys.exit(f"AWS={mode}: use AWS=server (a moto server, see `make aws-local`) or leave it unset (in-process moto)")
    stack = Stack(os.environ.get("SEED") or None, aws=mode)
    server = make_server(stack, port)
    base = f"http://127.0.0.1:{port}"
    key = first_test_key(stack)
    container = next((c.id for c in stack.fixture.containers if c.status == "completed" and c.media), None)
    account = next((a.id for a in stack.fixture.socialAccounts if a.status == "connected"), None)
    print(f"Layers local stack on {base}  (seed: {stack.seed_path}, {stack.counts})")
    if mode == "server":
        print(f"AWS: moto server on {stack.mock.endpoint}; e.g. aws --endpoint-url {stack.mock.endpoint} "
              f"dynamodb scan --table-name {os.environ['TABLE_NAME']}")
    if key and container and account:
        print("Try it:\n")
        print(f"curl -s -X POST {base}/v1/content/{container}/schedule \\\n"
              f"  -H 'Authorization: Bearer {key}' \\\n"
              f"  -H 'Content-Type: application/json' \\\n"
              f"  -H \"Idempotency-Key: $(uuidgen 2>/dev/null || date +%s%N)\" \\\n"
              f"  -d '{{\"scheduledFor\": \"'$(date -u -d '+2 minutes' +%Y-%m-%dT%H:%M:%SZ)'\", "
              f"\"targets\": [{{\"socialAccountId\": \"{account}\", \"mode\": \"publish\"}}]}}'\n")
        print(f"curl -s {base}/v1/scheduled-posts/<scheduledPostId> -H 'Authorization: Bearer {key}'\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        stack.stop()


if __name__ == "__main__":
    # Run as `python -m local.server`, this file is `__main__`, a second copy of
    # `local.server`: plugins register their hooks on the real module, so start
    # from there (or use `python -m local`).
    from local.server import main as start

    start()
