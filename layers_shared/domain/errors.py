"""Why a rule or a use case refused a command, in the domain's own words.

Rules and use cases raise these and know nothing of HTTP: no status, no
headers. `layers_shared/http/errors.py` is the one table that renders each of
them as the documented envelope.

`code` is the documented name of the refusal (the envelope's `error.code`).
It lives on the class, not in the HTTP table, because the domain itself reports
it: an approval whose stash cannot become posts records the refusal (code,
message, details) in the container's `promotion` block, with no request in sight.
"""
from __future__ import annotations

from typing import Any, ClassVar

# A path can echo any field name, and a body can hold thousands of them: the
# refusal must stay small enough for a Lambda response, an idempotency record
# and a container's promotion block.
MAX_ISSUES = 100
MAX_ISSUE_TEXT = 256


def issue(path: str, code: str, message: str) -> dict[str, str]:
    """One problem with one field of a command."""
    return {"path": path, "code": code, "message": message}


class DomainError(Exception):
    code: ClassVar[str]

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    """The thing does not exist, or belongs to another organization (the same answer)."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, ident: str, **extra: Any):
        super().__init__(f"{kind} {ident} was not found.", extra)
        self.kind = kind
        self.ident = ident


class Conflict(DomainError):
    """The thing is in a state that does not allow the command; `reason` says which."""

    code = "CONFLICT"

    def __init__(self, reason: str, message: str, **extra: Any):
        super().__init__(message, {"reason": reason, **extra})
        self.reason = reason


class DuplicateId(DomainError):
    code = "CONFLICT_DUPLICATE_ID"

    def __init__(self, ids: list[str]):
        super().__init__("A scheduledPostId in this request already exists; pick a fresh sp_<uuid>.",
                         {"scheduledPostIds": ids})
        self.ids = ids


class ContentRejected(DomainError):
    code = "CONTENT_REJECTED"

    def __init__(self, container_id: str):
        super().__init__(f"Content container {container_id} was rejected; regenerate or replace it.",
                         {"containerId": container_id, "approvalStatus": "rejected"})
        self.container_id = container_id


class ApprovalRequired(DomainError):
    code = "APPROVAL_REQUIRED"

    def __init__(self, container_id: str, approval_status: str):
        super().__init__(f"Content container {container_id} is not approved.",
                         {"containerId": container_id, "approvalStatus": approval_status})
        self.container_id = container_id


class NotPublishReady(DomainError):
    code = "SOCIAL_ACCOUNT_NOT_PUBLISH_READY"

    def __init__(self, social_account_id: str, mode: str, reason: str):
        super().__init__(f"Social account {social_account_id} is not provisioned to publish in mode '{mode}' "
                         f"({reason}).", {"socialAccountId": social_account_id, "mode": mode, "reason": reason})
        self.reason = reason


class ValidationFailed(DomainError):
    """The command is malformed; `issues` name every field at fault (bounded)."""

    code = "VALIDATION"

    def __init__(self, issues: list[dict[str, str]], message: str | None = None, **extra: Any):
        if len(issues) > MAX_ISSUES:
            extra["issuesOmitted"] = len(issues) - MAX_ISSUES
        bounded = [_bounded(i) for i in issues[:MAX_ISSUES]]
        if message is None:
            first = bounded[0] if bounded else {"path": "", "message": "invalid request"}
            message = f"Request validation failed: {first['path'] or 'body'}: {first['message']}"
            if len(bounded) > 1:
                message += f" (and {len(bounded) - 1 + extra.get('issuesOmitted', 0)} more issue(s))"
        super().__init__(message, {"issues": bounded, **extra})
        self.issues = bounded


class IdempotencyConflict(DomainError):
    """The Idempotency-Key was already used with a different request."""

    code = "IDEMPOTENCY_CONFLICT"

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used with a different request.")


class IdempotencyInProgress(Conflict):
    """The first request with this Idempotency-Key has not finished: try again shortly."""

    def __init__(self) -> None:
        super().__init__("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still being processed.")


class ProviderFailed(DomainError):
    """A platform or SMS provider refused or did not answer; `unavailable` when a retry may succeed."""

    code = "PLATFORM_ERROR"

    def __init__(self, reason: str, message: str, *, unavailable: bool, **extra: Any):
        super().__init__(message, {"reason": reason, **extra})
        self.reason = reason
        self.unavailable = unavailable


def _bounded(found: dict[str, str]) -> dict[str, str]:
    return {k: v if len(v) <= MAX_ISSUE_TEXT else v[:MAX_ISSUE_TEXT] + "…" for k, v in found.items()}
