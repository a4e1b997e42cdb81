"""`GET /openapi.json` and `GET /docs` (Swagger UI): local stack only, no auth.

The document is the committed docs/openapi.json, read on each request so a
regenerated file shows without a restart. Swagger UI's assets come from a
pinned CDN build in the browser: a dev page, not worth a dependency.
"""
from __future__ import annotations

import json
from pathlib import Path

from local import server

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Layers partner API: publishing</title>
  <link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{SWAGGER_UI}/swagger-ui-bundle.js" crossorigin></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      // "Try it out" against this local stack rather than production.
      requestInterceptor: (req) => {{
        req.url = req.url.replace(/^https:\\/\\/api\\.layers\\.com/, window.location.origin);
        return req;
      }},
    }});
  </script>
</body>
</html>
"""


def openapi_document() -> tuple[int, object]:
    if not DOCUMENT.exists():
        return 404, {"error": {"code": "NOT_FOUND", "message": "docs/openapi.json is missing: run "
                               "`python tools/gen_openapi.py`.", "requestId": "", "details": {}}}
    return 200, json.loads(DOCUMENT.read_text(encoding="utf-8"))


def docs_page() -> tuple[int, str, str]:
    return 200, PAGE, "text/html; charset=utf-8"


@server.on_startup
def _register(_stack: server.Stack) -> None:
    server.local_routes[("GET", "/openapi.json")] = openapi_document
    server.local_routes[("GET", "/docs")] = docs_page
