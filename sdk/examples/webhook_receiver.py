"""A webhook receiver: verifies the signature, dedupes on the event id, answers 2xx fast.

    LAYERS_WEBHOOK_SECRET=whsec_... python sdk/examples/webhook_receiver.py 8088

then create an endpoint for it (test keys may use http://127.0.0.1):

    Layers("lp_test_...", base_url="http://127.0.0.1:3000").webhooks.create_endpoint(
        "http://127.0.0.1:8088/layers", ["post.published", "post.failed"])

During a rotation set LAYERS_WEBHOOK_SECRET to "new,old" (comma-separated).
"""
from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from layers.webhooks import verify_signature


def make_server(secrets: list[str], port: int = 0, on_event: Callable[[dict[str, Any]], None] = print
                ) -> ThreadingHTTPServer:
    seen: set[str] = set()  # a real receiver keeps this in its database (at least once delivery)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not verify_signature(secrets, self.headers.get("X-Layers-Signature"), raw):
                self.send_response(400)
                self.end_headers()
                return
            event_id = self.headers.get("X-Layers-Event-Id", "")
            if event_id not in seen:
                seen.add(event_id)
                on_event(json.loads(raw))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


if __name__ == "__main__":
    server = make_server(os.environ["LAYERS_WEBHOOK_SECRET"].split(","), int(sys.argv[1]) if len(sys.argv) > 1 else 8088)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/layers", flush=True)
    server.serve_forever()
