"""The error envelope and every documented error code.

`{"error": {"code", "message", "requestId", "details"}}` — `details` is always
an object. `ApiError` is the HTTP form: the pipeline's own refusals (401, 403,
429, 503) raise it directly; rules and use cases raise domain errors
(domain/errors.py), which http/errors.py renders (docs/adr/0080-use-cases-on-ports.md).
"""
from __future__ import annotations

from typing import Any

from layers_shared.domain import errors as domain


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "requestId": request_id,
                "details": self.details,
            }
        }


issue = domain.issue


def unauthenticated(message: str = "Missing or invalid API key.") -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", message)


def forbidden_scope(scope: str) -> ApiError:
    return ApiError(403, "FORBIDDEN_SCOPE", f"This API key lacks the '{scope}' scope.", {"requiredScope": scope})


# The refusals below are domain errors (layers_shared/domain/errors.py) rendered
# by the one table in layers_shared/http/errors.py; these helpers remain for code
# that still raises the HTTP form directly.


def _rendered(error: Any) -> ApiError:
    from layers_shared.http.errors import to_api_error

    return to_api_error(error)


def approval_required(container_id: str, approval_status: str) -> ApiError:
    return _rendered(domain.ApprovalRequired(container_id, approval_status))


def not_found(kind: str, ident: str, **extra: Any) -> ApiError:
    return _rendered(domain.NotFound(kind, ident, **extra))


def conflict(reason: str, message: str, **extra: Any) -> ApiError:
    return _rendered(domain.Conflict(reason, message, **extra))


def duplicate_id(ids: list[str]) -> ApiError:
    return _rendered(domain.DuplicateId(ids))


def content_rejected(container_id: str) -> ApiError:
    return _rendered(domain.ContentRejected(container_id))


def idempotency_conflict() -> ApiError:
    return _rendered(domain.IdempotencyConflict())


def idempotency_in_progress() -> ApiError:
    return _rendered(domain.IdempotencyInProgress())


MAX_ISSUES = domain.MAX_ISSUES
MAX_ISSUE_TEXT = domain.MAX_ISSUE_TEXT


def validation(issues: list[dict[str, str]], message: str | None = None, **extra: Any) -> ApiError:
    return _rendered(domain.ValidationFailed(issues, message, **extra))


def not_publish_ready(social_account_id: str, mode: str, reason: str) -> ApiError:
    return _rendered(domain.NotPublishReady(social_account_id, mode, reason))


def rate_limited(retry_after: int, endpoint_class: str) -> ApiError:
    return ApiError(
        429,
        "RATE_LIMITED",
        f"Rate limit exhausted for {endpoint_class}; retry in {retry_after}s.",
        {"endpointClass": endpoint_class, "retryAfter": retry_after},
        {"Retry-After": str(retry_after)},
    )


def platform_error(status: int, reason: str, message: str, **extra: Any) -> ApiError:
    assert status in (502, 503), status  # the table knows these two: refused, or unavailable
    return _rendered(domain.ProviderFailed(reason, message, unavailable=status == 503, **extra))


def unavailable(reason: str, message: str, retry_after: int = 1) -> ApiError:
    """Our own storage is throttled, conflicted or did not answer: the request
    may be retried (with the same Idempotency-Key when its outcome is unknown)."""
    return ApiError(503, "SERVICE_UNAVAILABLE", message, {"reason": reason, "retryAfter": retry_after},
                    {"Retry-After": str(retry_after)})


def internal() -> ApiError:
    return ApiError(500, "INTERNAL", "An internal error occurred; it has been logged.")
