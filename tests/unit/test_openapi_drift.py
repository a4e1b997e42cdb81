"""docs/openapi.json is generated: it must equal what the generator writes
now, and name exactly the API routes template.yaml deploys."""
from __future__ import annotations

import json
import re

from layers_shared.openapi import ROUTES, build
from layers_shared.openapi.document import error_codes
from local import routes
from tests.support import ROOT
from tools import gen_openapi

DOCUMENT = ROOT / "docs" / "openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


def committed() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def test_committed_document_is_up_to_date() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == gen_openapi.render(), \
        "docs/openapi.json drifted: run `python tools/gen_openapi.py` and commit it"


def test_check_mode_reports_drift(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text('{"openapi": "3.1.0"}\n', encoding="utf-8")
    monkeypatch.setattr(gen_openapi, "TARGET", stale)
    monkeypatch.setattr(gen_openapi, "ROOT", tmp_path)
    assert gen_openapi.main(["--check"]) == 1
    assert gen_openapi.main([]) == 0
    assert gen_openapi.main(["--check"]) == 0


def test_document_routes_equal_template_routes() -> None:
    deployed = {(r.method, r.path) for r in routes.api_routes()}
    documented = {(m.upper(), p) for p, ops in committed()["paths"].items() for m in ops if m in METHODS}
    assert documented - deployed == set(), "documented but not in template.yaml"
    assert deployed - documented == set(), "in template.yaml but not documented"


def test_path_parameters_are_named_as_in_the_path() -> None:
    for path, ops in committed()["paths"].items():
        in_path = set(re.findall(r"\{(\w+)\}", path))
        for op in ops.values():
            declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
            assert declared == in_path, (path, declared)


def test_every_operation_documents_auth_rate_limit_and_request_id() -> None:
    doc = committed()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["security"] == [{"bearerAuth": []}]
            assert {"401", "429"} <= set(op["responses"]), (method, path)
            for status, response in op["responses"].items():
                assert "X-Request-Id" in response["headers"], (method, path, status)
            assert "Retry-After" in op["responses"]["429"]["headers"]


def test_idempotent_writes_take_the_key_and_document_its_conflicts() -> None:
    document = build()  # once: building it per route was most of this file's time
    for route in ROUTES:
        codes = error_codes(route)
        if route.method == "GET":
            assert not route.idempotent
            continue
        assert route.idempotent, f"{route.method} {route.path} should accept Idempotency-Key (decisions.md)"
        assert {"CONFLICT", "IDEMPOTENCY_CONFLICT"} <= set(codes[409])
        assert "VALIDATION" in codes[422]
        op = document["paths"][route.path][route.method.lower()]
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in op["parameters"]


def test_scopes_match_the_functions() -> None:
    """The scope each document entry names is the one the function enforces."""
    for route in routes.api_routes():
        handler = routes.load_handler(route.code_uri, route.handler)
        endpoint = handler.__self__  # Endpoint.lambda_handler is a bound method
        documented = next(r for r in ROUTES if (r.method, r.path) == (route.method, route.path))
        assert endpoint.scope == documented.scope, (route.method, route.path)
        assert endpoint.idempotent == documented.idempotent, (route.method, route.path)


def test_seed_error_rows_are_documented() -> None:
    """The error tables of the two seed pages, route by route."""
    table = {(r.method, r.path): error_codes(r) for r in ROUTES}
    schedule = table[("POST", "/v1/content/{containerId}/schedule")]
    assert set(schedule[409]) >= {"CONFLICT", "CONFLICT_DUPLICATE_ID", "CONTENT_REJECTED"}
    assert set(schedule[422]) == {"VALIDATION", "SOCIAL_ACCOUNT_NOT_PUBLISH_READY"}
    assert schedule[403] == ("FORBIDDEN_SCOPE",) and schedule[404] == ("NOT_FOUND",)
    notify = table[("POST", "/v1/content/{containerId}/notify-device")]
    assert notify[502] == ("PLATFORM_ERROR",) and set(notify[503]) == {"PLATFORM_ERROR", "SERVICE_UNAVAILABLE"}
    assert "APPROVAL_REQUIRED" in table[("POST", "/v1/content/{containerId}/publish")][403]
