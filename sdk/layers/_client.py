from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from layers._resources import Content, Music, Publishing, Social
from layers._transport import ApiResponse, Transport
from layers.webhooks import Webhooks

DEFAULT_BASE_URL = "https://api.layers.com"


class Layers:
    """A client for one API key.

        layers = Layers("lp_test_...")
        layers.publishing.schedule("cnt_...", "2026-05-01T14:00:00Z",
                                   [{"socialAccountId": "sa_...", "mode": "publish"}])

    `max_retries` bounds the retries of one call: 429 answers are retried for
    any call (waiting `Retry-After`, at most `max_retry_wait` seconds), 5xx
    answers and connection failures only for reads and for writes carrying an
    Idempotency-Key (every write does unless `request(..., auto_idempotency=False)`).
    `sleep` exists so tests can observe the waits.
    """

    def __init__(self, api_key: str, base_url: str = DEFAULT_BASE_URL, *, timeout: float = 30.0,
                 max_retries: int = 2, max_retry_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep):
        self._transport = Transport(api_key, base_url, timeout=timeout, max_retries=max_retries,
                                    max_retry_wait=max_retry_wait, sleep=sleep)
        self.publishing = Publishing(self._transport)
        self.content = Content(self._transport)
        self.social = Social(self._transport)
        self.music = Music(self._transport)
        self.webhooks = Webhooks(self._transport)

    def whoami(self) -> dict[str, Any]:
        """`{organizationId, organizationName, apiKeyId, scopes, rateLimitTier, mode}`."""
        return self._transport.request("GET", "/v1/whoami").body

    def request(self, method: str, path: str, *, body: Any = None, params: Mapping[str, Any] | None = None,
                idempotency_key: str | None = None, auto_idempotency: bool = True) -> ApiResponse:
        """Any route, raw: the status, headers (X-Request-Id, Idempotent-Replayed, X-RateLimit-*) and body."""
        return self._transport.request(method, path, body=body, params=params,
                                       idempotency_key=idempotency_key, auto_idempotency=auto_idempotency)
