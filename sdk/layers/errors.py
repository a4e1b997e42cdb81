"""Typed errors: one class per documented `error.code`, all `LayersError`.

Branch on the class (or `.code`); `.request_id` is what support asks for.
"""
from __future__ import annotations

from typing import Any, Mapping


class LayersError(Exception):
    """Any error answer of the API, or a failure to reach it."""

    def __init__(self, message: str, *, code: str, status: int | None = None,
                 details: Mapping[str, Any] | None = None, request_id: str | None = None,
                 headers: Mapping[str, str] | None = None):
        super().__init__(f"{code}: {message}" + (f" (request {request_id})" if request_id else ""))
        self.code = code
        self.message = message
        self.status = status
        self.details: dict[str, Any] = dict(details or {})
        self.request_id = request_id
        self.headers: dict[str, str] = dict(headers or {})

    @property
    def reason(self) -> str | None:
        """`details.reason`, the sub-reason of CONFLICT, VALIDATION and PLATFORM_ERROR."""
        value = self.details.get("reason")
        return value if isinstance(value, str) else None


class APIConnectionError(LayersError):
    """The request got no HTTP answer (refused, reset, timed out)."""


class AuthenticationError(LayersError):
    """401 UNAUTHENTICATED: missing, malformed, unknown or revoked key."""


class PermissionDeniedError(LayersError):
    """403 FORBIDDEN_SCOPE: the key lacks `details.requiredScope`."""


class ApprovalRequiredError(PermissionDeniedError):
    """403 APPROVAL_REQUIRED: publish-now on a container awaiting approval."""


class NotFoundError(LayersError):
    """404 NOT_FOUND: absent, or owned by another organization."""


class ConflictError(LayersError):
    """409 CONFLICT (`reason` says which: CONTENT_NOT_READY, NOT_QUEUED, ...)."""


class DuplicateIdError(ConflictError):
    """409 CONFLICT_DUPLICATE_ID: a supplied scheduledPostId already exists."""


class ContentRejectedError(ConflictError):
    """409 CONTENT_REJECTED: the container was rejected."""


class IdempotencyConflictError(ConflictError):
    """409 IDEMPOTENCY_CONFLICT: the key was used with another request."""


class ValidationError(LayersError):
    """422 VALIDATION: `issues` lists every problem at once."""

    @property
    def issues(self) -> list[dict[str, Any]]:
        found = self.details.get("issues")
        return list(found) if isinstance(found, list) else []


class NotPublishReadyError(ValidationError):
    """422 SOCIAL_ACCOUNT_NOT_PUBLISH_READY (`details.socialAccountId`, `details.mode`)."""


class RateLimitError(LayersError):
    """429 RATE_LIMITED, raised once the client's retries are used up."""

    @property
    def retry_after(self) -> float | None:
        return _seconds(self.headers.get("retry-after"))


class PlatformError(LayersError):
    """502/503 PLATFORM_ERROR: an upstream platform or SMS provider failed."""


class ServiceUnavailableError(LayersError):
    """503 SERVICE_UNAVAILABLE: the API's storage is throttled or did not confirm a
    change; retried automatically (with the same Idempotency-Key)."""

    @property
    def retry_after(self) -> float | None:
        return _seconds(self.headers.get("retry-after"))


class InternalServerError(LayersError):
    """500 INTERNAL or another 5xx: a bug on our side; retried for idempotent calls."""


_BY_CODE: dict[str, type[LayersError]] = {
    "UNAUTHENTICATED": AuthenticationError,
    "FORBIDDEN_SCOPE": PermissionDeniedError,
    "APPROVAL_REQUIRED": ApprovalRequiredError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "CONFLICT_DUPLICATE_ID": DuplicateIdError,
    "CONTENT_REJECTED": ContentRejectedError,
    "IDEMPOTENCY_CONFLICT": IdempotencyConflictError,
    "VALIDATION": ValidationError,
    "SOCIAL_ACCOUNT_NOT_PUBLISH_READY": NotPublishReadyError,
    "RATE_LIMITED": RateLimitError,
    "PLATFORM_ERROR": PlatformError,
    "SERVICE_UNAVAILABLE": ServiceUnavailableError,
    "INTERNAL": InternalServerError,
}

# Codes added later fall back on the HTTP status (new codes may appear in /v1).
_BY_STATUS: dict[int, type[LayersError]] = {
    401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError, 409: ConflictError,
    400: ValidationError, 422: ValidationError, 429: RateLimitError, 502: PlatformError, 503: PlatformError,
}


def from_response(status: int, body: Any, headers: Mapping[str, str]) -> LayersError:
    """The typed error for an error answer, whatever its body looks like."""
    envelope = body.get("error") if isinstance(body, dict) else None
    lowered = {k.lower(): v for k, v in headers.items()}
    if isinstance(envelope, dict) and isinstance(envelope.get("code"), str):
        code = envelope["code"]
        message = str(envelope.get("message") or code)
        details = envelope.get("details") if isinstance(envelope.get("details"), dict) else {}
        request_id = envelope.get("requestId") or lowered.get("x-request-id")
    else:
        code, message, details = f"HTTP_{status}", f"HTTP {status} without an error envelope", {}
        request_id = lowered.get("x-request-id")
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or (InternalServerError if status >= 500 else LayersError)
    return cls(message, code=code, status=status, details=details, request_id=request_id, headers=lowered)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
