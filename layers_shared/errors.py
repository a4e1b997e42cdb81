"""The error envelope and every documented error code.

`{"error": {"code", "message", "requestId", "details"}}` — `details` is always
an object. Handlers raise `ApiError`; the HTTP layer renders it.
"""
from __future__ import annotations

from typing import Any


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


def issue(path: str, code: str, message: str) -> dict[str, str]:
    return {"path": path, "code": code, "message": message}


def unauthenticated(message: str = "Missing or invalid API key.") -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", message)


def forbidden_scope(scope: str) -> ApiError:
    return ApiError(403, "FORBIDDEN_SCOPE", f"This API key lacks the '{scope}' scope.", {"requiredScope": scope})


def approval_required(container_id: str, approval_status: str) -> ApiError:
    return ApiError(
        403,
        "APPROVAL_REQUIRED",
        f"Content container {container_id} is not approved.",
        {"containerId": container_id, "approvalStatus": approval_status},
    )


def not_found(kind: str, ident: str, **extra: Any) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{kind} {ident} was not found.", extra)


def conflict(reason: str, message: str, **extra: Any) -> ApiError:
    return ApiError(409, "CONFLICT", message, {"reason": reason, **extra})


def duplicate_id(ids: list[str]) -> ApiError:
    return ApiError(
        409,
        "CONFLICT_DUPLICATE_ID",
        "A scheduledPostId in this request already exists; pick a fresh sp_<uuid>.",
        {"scheduledPostIds": ids},
    )


def content_rejected(container_id: str) -> ApiError:
    return ApiError(
        409,
        "CONTENT_REJECTED",
        f"Content container {container_id} was rejected; regenerate or replace it.",
        {"containerId": container_id, "approvalStatus": "rejected"},
    )


def idempotency_conflict() -> ApiError:
    return ApiError(
        409,
        "IDEMPOTENCY_CONFLICT",
        "This Idempotency-Key was already used with a different request.",
    )


def idempotency_in_progress() -> ApiError:
    return ApiError(
        409,
        "CONFLICT",
        "A request with this Idempotency-Key is still being processed.",
        {"reason": "IDEMPOTENCY_IN_PROGRESS"},
        {"Retry-After": "1"},
    )


# A path can echo any field name, and a body can hold thousands of them: the
# answer must stay small enough for a Lambda response and an idempotency record.
MAX_ISSUES = 100
MAX_ISSUE_TEXT = 256


def _bounded(found: dict[str, str]) -> dict[str, str]:
    return {k: v if len(v) <= MAX_ISSUE_TEXT else v[:MAX_ISSUE_TEXT] + "…" for k, v in found.items()}


def validation(issues: list[dict[str, str]], message: str | None = None, **extra: Any) -> ApiError:
    if len(issues) > MAX_ISSUES:
        extra["issuesOmitted"] = len(issues) - MAX_ISSUES
    issues = [_bounded(i) for i in issues[:MAX_ISSUES]]
    if message is None:
        first = issues[0] if issues else {"path": "", "message": "invalid request"}
        where = first["path"] or "body"
        message = f"Request validation failed: {where}: {first['message']}"
        if len(issues) > 1:
            message += f" (and {len(issues) - 1 + extra.get('issuesOmitted', 0)} more issue(s))"
    return ApiError(422, "VALIDATION", message, {"issues": issues, **extra})


def not_publish_ready(social_account_id: str, mode: str, reason: str) -> ApiError:
    return ApiError(
        422,
        "SOCIAL_ACCOUNT_NOT_PUBLISH_READY",
        f"Social account {social_account_id} is not provisioned to publish in mode '{mode}' ({reason}).",
        {"socialAccountId": social_account_id, "mode": mode, "reason": reason},
    )


def rate_limited(retry_after: int, endpoint_class: str) -> ApiError:
    return ApiError(
        429,
        "RATE_LIMITED",
        f"Rate limit exhausted for {endpoint_class}; retry in {retry_after}s.",
        {"endpointClass": endpoint_class, "retryAfter": retry_after},
        {"Retry-After": str(retry_after)},
    )


def platform_error(status: int, reason: str, message: str, **extra: Any) -> ApiError:
    return ApiError(status, "PLATFORM_ERROR", message, {"reason": reason, **extra})


def unavailable(reason: str, message: str, retry_after: int = 1) -> ApiError:
    """Our own storage is throttled, conflicted or did not answer: the request
    may be retried (with the same Idempotency-Key when its outcome is unknown)."""
    return ApiError(503, "SERVICE_UNAVAILABLE", message, {"reason": reason, "retryAfter": retry_after},
                    {"Retry-After": str(retry_after)})


def internal() -> ApiError:
    return ApiError(500, "INTERNAL", "An internal error occurred; it has been logged.")
