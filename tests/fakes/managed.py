"""A fake managed-distribution provider (platform-apis.md §4, our own protocol).

Accepts one JSON document per POST, dedupes on `Idempotency-Key` (a replay
gets the first answer back), and rejects documents without the required
fields with a 422.
"""
from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.http_server import FakeServer, Request, Response

REQUIRED = ("scheduledPostId", "socialAccountId", "platform", "media")


class FakeManagedProvider(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.accepted: dict[str, dict[str, Any]] = {}  # Idempotency-Key → document
        self._answers: dict[str, Response] = {}
        self._ids = itertools.count(1)

    def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(405, {"error": {"code": "method_not_allowed", "message": "POST only"}})
        key = request.headers.get("idempotency-key")
        if not key:
            return Response(400, {"error": {"code": "idempotency_key_required",
                                            "message": "Idempotency-Key header is required"}})
        if key in self._answers:
            return self._answers[key]
        doc = request.json
        if not isinstance(doc, dict) or any(doc.get(f) in (None, "", []) for f in REQUIRED):
            return Response(422, {"error": {"code": "invalid_document", "message": "missing required fields"}})
        self.accepted[key] = doc
        answer = Response(201, {"id": f"mp_{next(self._ids)}", "status": "accepted"})
        self._answers[key] = answer
        return answer
