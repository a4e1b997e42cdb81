"""Every API sample event in events/ runs through its function (as `sam local
invoke -e` would) and gets an answer in the envelope, never a 500."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from local import routes

ROOT = Path(__file__).resolve().parents[2]
API_EVENTS = [p for p in sorted((ROOT / "events").glob("*.json")) if "httpMethod" in p.read_text()]


@pytest.mark.parametrize("path", API_EVENTS, ids=lambda p: p.stem)
def test_sample_event_is_answered(stack, path):
    event = json.loads(path.read_text())
    route = next((r for r in routes.api_routes() if r.method == event["httpMethod"] and r.path == event["resource"]),
                 None)
    assert route is not None, f"{path.name}: no function serves {event['httpMethod']} {event['resource']}"
    handler = routes.load_handler(route.code_uri, route.handler)
    answer = handler(event, None)
    assert answer["statusCode"] < 500, answer
    assert answer["headers"]["X-Request-Id"].startswith("req_")
    body = json.loads(answer["body"])
    assert isinstance(body, dict)
    if answer["statusCode"] >= 400:
        assert set(body["error"]) == {"code", "message", "requestId", "details"}
