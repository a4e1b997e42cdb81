"""schemathesis over every operation of docs/openapi.json, against the local
stack, with the default test key: no 5xx, and every answer (status, content
type, headers, body) as the document says.

Bounded for CI: a fixed number of examples per operation, derandomized so a
run is reproducible (`SCHEMATHESIS_EXAMPLES` raises it for a deeper local run).
"""
from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (requirements-dev.txt)")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance, negative_data_rejection, response_headers_conformance, response_schema_conformance,
    status_code_conformance,
)

from local import routes  # noqa: E402
from tests.support import KEY, ROOT  # noqa: E402

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
DEPLOYED = {(r.method, r.path) for r in routes.api_routes()}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_api_conforms_to_the_document(case, stack) -> None:
    operation = case.operation
    if (operation.method.upper(), operation.path) not in DEPLOYED:
        pytest.skip(f"{operation.method.upper()} {operation.path} has no function in template.yaml yet")
    case.call_and_validate(base_url=stack.base_url, headers={"Authorization": f"Bearer {KEY}"}, checks=CHECKS,
                           timeout=30)
