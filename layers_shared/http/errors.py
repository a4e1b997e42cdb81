"""The one table from domain errors to the documented error envelope.

A rule says *what* went wrong (`layers_shared/domain/errors.py`); this table
says how HTTP tells a partner: the status and any header a client acts on
(`Retry-After`). The code, message and details come from the error itself, so
the envelope stays byte-for-byte what the API has always answered.
"""
from __future__ import annotations

from typing import Callable

from layers_shared.domain import errors as domain
from layers_shared.errors import ApiError

Headers = Callable[[domain.DomainError], dict[str, str]]


def _none(_error: domain.DomainError) -> dict[str, str]:
    return {}


def _retry_now(_error: domain.DomainError) -> dict[str, str]:
    return {"Retry-After": "1"}


def _provider_status(error: domain.DomainError) -> int:
    assert isinstance(error, domain.ProviderFailed)
    return 503 if error.unavailable else 502


# Looked up along the error's class hierarchy, so a subclass's row wins over its base's
# (IdempotencyInProgress is a Conflict that also says when to retry).
TABLE: dict[type[domain.DomainError], tuple[int | Callable[[domain.DomainError], int], Headers]] = {
    domain.IdempotencyInProgress: (409, _retry_now),
    domain.NotFound: (404, _none),
    domain.Conflict: (409, _none),
    domain.DuplicateId: (409, _none),
    domain.ContentRejected: (409, _none),
    domain.IdempotencyConflict: (409, _none),
    domain.ApprovalRequired: (403, _none),
    domain.ValidationFailed: (422, _none),
    domain.NotPublishReady: (422, _none),
    domain.ProviderFailed: (_provider_status, _none),
}


def to_api_error(error: domain.DomainError) -> ApiError:
    for kind in type(error).__mro__:
        if kind in TABLE:
            status, headers = TABLE[kind]  # type: ignore[index]
            code = status(error) if callable(status) else status
            return ApiError(code, error.code, error.message, dict(error.details), headers(error))
    raise TypeError(f"{type(error).__name__} has no row in the HTTP error table")
