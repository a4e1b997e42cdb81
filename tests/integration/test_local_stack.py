"""The local stack's own answers keep the envelope and the request id."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from tests.support import KEY, VIDEO


def test_an_oversized_body_is_refused_in_the_envelope(stack):
    where = urlsplit(stack.base_url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    conn.putrequest("POST", f"/v1/content/{VIDEO}/schedule")
    conn.putheader("Authorization", f"Bearer {KEY}")
    conn.putheader("Content-Length", str(11 * 1024 * 1024))
    conn.endheaders()
    answer = conn.getresponse()
    body = json.loads(answer.read())
    assert answer.status == 413 and body["error"]["code"] == "VALIDATION"
    assert body["error"]["requestId"].startswith("req_")
    assert answer.getheader("X-Request-Id") == body["error"]["requestId"]
    conn.close()


def test_routes_come_from_the_template(stack):
    from local import routes

    template_routes = {(r.method, r.path) for r in routes.api_routes()}
    assert ("POST", "/v1/content/{containerId}/schedule") in template_routes
    assert len(template_routes) == 22  # 13 publishing routes + 9 webhook routes
