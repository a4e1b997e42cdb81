"""The deployed API, as SAM translates template.yaml: every route of the
functions is in the REST API body, and API Gateway's own answers keep the
partner envelope with a request id."""
from __future__ import annotations

import json

import pytest

from local import routes


@pytest.fixture(scope="module")
def translated(monkeypatch_module):
    import yaml
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import intrinsics_multi_constructor

    class CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        """The template as `sam deploy` reads it: short-form intrinsics (!Sub, !GetAtt a.b)
        in their long form. SAM's own constructor on a private loader (cfn-lint's decoder
        read the same and cost a second to import)."""

    CfnLoader.add_multi_constructor("!", intrinsics_multi_constructor)
    template = yaml.load((routes.ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for name in ("CodeUri", "ContentUri"):
            if name in props:
                props[name] = "s3://bucket/key"  # what `sam package` puts there

    class NoManagedPolicies:
        def load(self):
            return {}

    return transform(template, {"AWS::Region": "us-east-1"}, NoManagedPolicies())


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        yield patch


def body_of(translated) -> dict:
    return translated["Resources"]["PartnerApi"]["Properties"]["Body"]


def test_every_function_route_is_deployed(translated):
    paths = body_of(translated)["paths"]
    deployed = {(method.upper(), path) for path, methods in paths.items() for method in methods}
    declared = {(r.method, r.path) for r in routes.api_routes()}
    assert deployed == declared
    for path, methods in paths.items():
        for operation in methods.values():
            assert operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy", path


@pytest.mark.parametrize("kind,status,code", [
    ("MISSING_AUTHENTICATION_TOKEN", "404", "NOT_FOUND"), ("RESOURCE_NOT_FOUND", "404", "NOT_FOUND"),
    ("THROTTLED", "429", "RATE_LIMITED"), ("REQUEST_TOO_LARGE", "413", "VALIDATION"),
    ("DEFAULT_4XX", None, "VALIDATION"), ("DEFAULT_5XX", None, "INTERNAL"),
])
def test_gateway_answers_keep_the_envelope(translated, kind, status, code):
    answer = body_of(translated)["x-amazon-apigateway-gateway-responses"][kind]
    assert answer.get("statusCode") == status
    assert answer["responseParameters"]["gatewayresponse.header.X-Request-Id"] == "context.requestId"
    # What API Gateway renders: its variables substituted ($context.error.messageString is a quoted string).
    rendered = (answer["responseTemplates"]["application/json"]
                .replace("$context.error.messageString", json.dumps("Too Many Requests"))
                .replace("$context.requestId", "5f0c2a1e-0000-4000-8000-000000000000"))
    error = json.loads(rendered)["error"]
    assert error["code"] == code and error["message"]
    assert error["requestId"] == "5f0c2a1e-0000-4000-8000-000000000000"
    assert isinstance(error["details"], dict)
