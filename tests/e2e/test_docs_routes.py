"""The local stack serves the committed document and a Swagger UI page."""
from __future__ import annotations

import json
import urllib.request

from tests.support import ROOT


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.headers.get("Content-Type", ""), answer.read()


def test_openapi_json_is_the_committed_document(stack) -> None:
    status, content_type, body = fetch(stack.base_url + "/openapi.json")
    assert status == 200 and content_type.startswith("application/json")
    assert json.loads(body) == json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))


def test_docs_is_a_swagger_ui_page_pointing_at_the_document(stack) -> None:
    status, content_type, body = fetch(stack.base_url + "/docs")
    assert status == 200 and content_type.startswith("text/html")
    page = body.decode()
    assert "SwaggerUIBundle" in page and 'url: "/openapi.json"' in page


def test_json_local_routes_still_work(stack) -> None:
    status, content_type, body = fetch(stack.base_url + "/_local/sandbox/deliveries")
    assert status == 200 and content_type.startswith("application/json")
    assert isinstance(json.loads(body)["items"], list)
