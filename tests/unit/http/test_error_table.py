"""The one table from domain errors to the envelope: every domain error has a
row, and each renders exactly the envelope the API answered before the domain
stopped speaking HTTP (integration tests assert these codes, details, headers)."""
from __future__ import annotations

import pytest

from layers_shared import errors
from layers_shared.domain import errors as domain
from layers_shared.http.errors import TABLE, to_api_error


def _all_subclasses(kind: type) -> set[type]:
    found = set(kind.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_domain_error_renders():
    missing = [k.__name__ for k in _all_subclasses(domain.DomainError)
               if not any(base in TABLE for base in k.__mro__) and k.__module__ == domain.__name__]
    assert missing == []


def _envelope(error: domain.DomainError) -> tuple[int, dict, dict]:
    api = to_api_error(error)
    return api.status, api.body("req_1"), api.headers


CASES = [
    (domain.NotFound("Scheduled post", "sp_x", scheduledPostId="sp_x"), 404,
     {"code": "NOT_FOUND", "message": "Scheduled post sp_x was not found.", "details": {"scheduledPostId": "sp_x"}},
     {}),
    (domain.Conflict("NOT_QUEUED", "m", scheduledPostId="sp_x", status="published"), 409,
     {"code": "CONFLICT", "message": "m",
      "details": {"reason": "NOT_QUEUED", "scheduledPostId": "sp_x", "status": "published"}}, {}),
    (domain.DuplicateId(["sp_1"]), 409,
     {"code": "CONFLICT_DUPLICATE_ID",
      "message": "A scheduledPostId in this request already exists; pick a fresh sp_<uuid>.",
      "details": {"scheduledPostIds": ["sp_1"]}}, {}),
    (domain.ContentRejected("cnt_1"), 409,
     {"code": "CONTENT_REJECTED", "message": "Content container cnt_1 was rejected; regenerate or replace it.",
      "details": {"containerId": "cnt_1", "approvalStatus": "rejected"}}, {}),
    (domain.ApprovalRequired("cnt_1", "pending"), 403,
     {"code": "APPROVAL_REQUIRED", "message": "Content container cnt_1 is not approved.",
      "details": {"containerId": "cnt_1", "approvalStatus": "pending"}}, {}),
    (domain.NotPublishReady("sa_1", "publish", "token_expired"), 422,
     {"code": "SOCIAL_ACCOUNT_NOT_PUBLISH_READY",
      "message": "Social account sa_1 is not provisioned to publish in mode 'publish' (token_expired).",
      "details": {"socialAccountId": "sa_1", "mode": "publish", "reason": "token_expired"}}, {}),
    (domain.IdempotencyConflict(), 409,
     {"code": "IDEMPOTENCY_CONFLICT", "message": "This Idempotency-Key was already used with a different request.",
      "details": {}}, {}),
    (domain.IdempotencyInProgress(), 409,
     {"code": "CONFLICT", "message": "A request with this Idempotency-Key is still being processed.",
      "details": {"reason": "IDEMPOTENCY_IN_PROGRESS"}}, {"Retry-After": "1"}),
    (domain.ProviderFailed("PROVIDER_REJECTED", "no", unavailable=False, provider="linq"), 502,
     {"code": "PLATFORM_ERROR", "message": "no", "details": {"reason": "PROVIDER_REJECTED", "provider": "linq"}}, {}),
    (domain.ProviderFailed("SMS_PROVIDER_UNAVAILABLE", "later", unavailable=True), 503,
     {"code": "PLATFORM_ERROR", "message": "later", "details": {"reason": "SMS_PROVIDER_UNAVAILABLE"}}, {}),
    (domain.ValidationFailed([domain.issue("a", "required", "a is required"), domain.issue("b", "x", "y")]), 422,
     {"code": "VALIDATION", "message": "Request validation failed: a: a is required (and 1 more issue(s))",
      "details": {"issues": [{"path": "a", "code": "required", "message": "a is required"},
                             {"path": "b", "code": "x", "message": "y"}]}}, {}),
]


@pytest.mark.parametrize("error,status,body,headers", CASES, ids=lambda v: type(v).__name__)
def test_envelope(error, status, body, headers):
    assert _envelope(error) == (status, {"error": {**body, "requestId": "req_1"}}, headers)


def test_validation_is_bounded_in_count_and_text():
    many = [domain.issue(f"f{i}", "bad", "x" * 300) for i in range(150)]
    error = to_api_error(domain.ValidationFailed(many))
    assert len(error.details["issues"]) == errors.MAX_ISSUES
    assert error.details["issuesOmitted"] == 50
    assert error.details["issues"][0]["message"] == "x" * errors.MAX_ISSUE_TEXT + "…"
    assert error.message.endswith("(and 149 more issue(s))")


def test_an_error_without_a_row_is_a_bug_not_a_silent_500():
    class Unmapped(domain.DomainError):
        code = "X"

    with pytest.raises(TypeError):
        to_api_error(Unmapped("m"))
