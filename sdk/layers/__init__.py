"""Python client for the Layers partner API (publishing)."""
from layers._client import DEFAULT_BASE_URL, Layers
from layers._transport import VERSION as __version__
from layers._transport import ApiResponse
from layers.errors import (
    APIConnectionError, ApprovalRequiredError, AuthenticationError, ConflictError, ContentRejectedError,
    DuplicateIdError, IdempotencyConflictError, InternalServerError, LayersError, NotFoundError,
    NotPublishReadyError, PermissionDeniedError, PlatformError, RateLimitError, ServiceUnavailableError,
    ValidationError,
)

__all__ = [
    "Layers", "ApiResponse", "DEFAULT_BASE_URL", "__version__",
    "LayersError", "APIConnectionError", "AuthenticationError", "PermissionDeniedError", "ApprovalRequiredError",
    "NotFoundError", "ConflictError", "DuplicateIdError", "ContentRejectedError", "IdempotencyConflictError",
    "ValidationError", "NotPublishReadyError", "RateLimitError", "PlatformError", "ServiceUnavailableError", "InternalServerError",
]
