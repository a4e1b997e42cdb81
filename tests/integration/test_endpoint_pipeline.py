"""The Endpoint pipeline itself: a handler bug is a 500 INTERNAL in the
envelope that leaks nothing and frees the Idempotency-Key; the order of
checks is auth -> scope -> rate limit -> body."""
from __future__ import annotations

import json

from layers_shared import errors
from layers_shared.http.api import Endpoint, Request, Response
from local import events
from tests.support import KEY, READ_KEY


def call(endpoint: Endpoint, *, key: str | None = KEY, body: str | None = "{}", idem: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if idem:
        headers["Idempotency-Key"] = idem
    event = events.proxy_event(method="POST", path="/v1/test/x", query="", headers=headers,
                               body=(body or "").encode(), resource="/v1/test/{id}", path_params={"id": "x"})
    answer = endpoint.lambda_handler(event, None)
    answer["json"] = json.loads(answer["body"])
    return answer


def test_a_handler_bug_is_a_500_that_leaks_nothing_and_frees_the_key(stack):
    calls = []
    endpoint = Endpoint("POST", "/v1/test/{id}", scope="publish:write", idempotent=True)

    @endpoint.handle
    def boom(req: Request) -> Response:
        calls.append(req.request_id)
        raise RuntimeError("secret-token-value leaked?")

    first = call(endpoint, idem="bug-1")
    error = first["json"]["error"]
    assert first["statusCode"] == 500 and error["code"] == "INTERNAL" and error["details"] == {}
    assert "secret-token-value" not in first["body"]
    assert first["headers"]["X-Request-Id"] == error["requestId"]
    again = call(endpoint, idem="bug-1")
    assert again["statusCode"] == 500 and len(calls) == 2  # not replayed, not stuck "in progress"


def test_checks_run_in_the_documented_order(stack, monkeypatch):
    from layers_shared import config

    endpoint = Endpoint("POST", "/v1/test/{id}", scope="publish:write", idempotent=True)

    @endpoint.handle
    def strict(req: Request) -> Response:
        req.json_body()
        raise errors.validation([errors.issue("x", "required", "x is required")])

    # 401 beats everything, 403 beats the body, 422 for the body otherwise.
    assert call(endpoint, key=None, body="not json")["json"]["error"]["code"] == "UNAUTHENTICATED"
    assert call(endpoint, key=READ_KEY, body="not json")["json"]["error"]["code"] == "FORBIDDEN_SCOPE"
    assert call(endpoint, body="not json")["json"]["error"]["details"]["issues"][0]["path"] == ""
    assert call(endpoint, body="{}")["json"]["error"]["details"]["issues"][0]["path"] == "x"
    # 429 beats the body: with the budget spent, even a bad body is only counted.
    monkeypatch.setenv("RATE_LIMITS_JSON", '{"standard": {"write-light": 0}}')
    config.rate_limits.cache_clear()
    try:
        limited = call(endpoint, body="not json")
        assert limited["statusCode"] == 429 and limited["json"]["error"]["code"] == "RATE_LIMITED"
        assert call(endpoint, key=READ_KEY)["statusCode"] == 403  # scope is checked before the budget
    finally:
        monkeypatch.undo()
        config.rate_limits.cache_clear()


def test_another_method_is_a_404_envelope(stack):
    endpoint = Endpoint("GET", "/v1/test/{id}", scope=None)
    endpoint.handle(lambda req: Response(200, {}))
    answer = call(endpoint)  # a POST event
    assert answer["statusCode"] == 404 and answer["json"]["error"]["code"] == "NOT_FOUND"
