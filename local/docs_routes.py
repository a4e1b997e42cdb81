"""`GET /openapi.json` and `GET /docs` (Swagger UI): local stack only, no auth.

The document is the committed docs/openapi.json, read on each request so a
regenerated file shows without a restart. Swagger UI's assets are served from
the pinned swagger-ui-bundle-v2 package (requirements-dev.txt) under
/docs/assets/, so the page works on a machine without internet access
(tests/e2e/test_docs_browser.py renders it in headless Chromium).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from local import server

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
SWAGGER_UI = "/docs/assets"
# What the page loads; the package holds more (source maps, ES bundles) that nothing asks for.
ASSETS = {"swagger-ui.css": "text/css; charset=utf-8", "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
          "favicon-32x32.png": "image/png"}

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Layers partner API: publishing</title>
  <link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{SWAGGER_UI}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
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


def asset(name: str) -> Callable[[], tuple[int, bytes, str]]:
    from swagger_ui_bundle import swagger_ui_path  # swagger-ui-bundle-v2

    path = Path(str(swagger_ui_path)) / name

    def serve() -> tuple[int, bytes, str]:
        return 200, path.read_bytes(), ASSETS[name]

    return serve


@server.on_startup
def _register(_stack: server.Stack) -> None:
    server.local_routes[("GET", "/openapi.json")] = openapi_document
    server.local_routes[("GET", "/docs")] = docs_page
    for name in ASSETS:
        server.local_routes[("GET", f"{SWAGGER_UI}/{name}")] = asset(name)
