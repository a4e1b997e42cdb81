"""HTTP with the API's rules: Bearer auth, JSON, an Idempotency-Key on every
write (the same one on each retry), and retries only where they are safe.

Standard library only (urllib), so the SDK adds no dependency.
"""
from __future__ import annotations

import json
import random
import socket
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

from layers import errors

VERSION = "0.1.0"
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")

    @property
    def replayed(self) -> bool:
        return self.headers.get("idempotent-replayed") == "true"


class Transport:
    def __init__(self, api_key: str, base_url: str, *, timeout: float, max_retries: int,
                 max_retry_wait: float, sleep: Callable[[float], None] = time.sleep):
        if not api_key:
            raise ValueError("api_key is required (lp_live_... or lp_test_...)")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.max_retry_wait = max_retry_wait
        self.sleep = sleep

    def request(self, method: str, path: str, *, body: Any = None, params: Mapping[str, Any] | None = None,
                idempotency_key: str | None = None, auto_idempotency: bool = True) -> ApiResponse:
        """One logical call, retried as the rules allow; raises a `LayersError` on an error answer.

        Writes get a fresh uuid4 `Idempotency-Key` unless one is given (or
        `auto_idempotency` is off); every retry re-sends that same key, so the
        server runs the write at most once."""
        method = method.upper()
        if method != "GET" and idempotency_key is None and auto_idempotency:
            idempotency_key = str(uuid.uuid4())
        # Safe to repeat: reads, and writes the server deduplicates by key.
        repeatable = method == "GET" or idempotency_key is not None
        url = self.base_url + path + _query(params)
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": f"layers-python/{VERSION}",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key

        attempt = 0
        while True:
            try:
                response = self._send(method, url, headers, data)
            except errors.APIConnectionError:
                if repeatable and attempt < self.max_retries:
                    self.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise
            if 200 <= response.status < 300:
                return response
            error = errors.from_response(response.status, response.body, response.headers)
            wait = self._retry_wait(error, repeatable, attempt)
            if wait is None:
                raise error
            self.sleep(wait)
            attempt += 1

    def _retry_wait(self, error: errors.LayersError, repeatable: bool, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when this answer is final."""
        if attempt >= self.max_retries:
            return None
        hinted = errors._seconds(error.headers.get("retry-after"))
        if error.status == 429:
            # Rejected before anything ran: safe to repeat for any call.
            return min(hinted, self.max_retry_wait) if hinted is not None else self._backoff(attempt)
        if not repeatable:
            return None
        if error.status == 409 and error.reason == "IDEMPOTENCY_IN_PROGRESS":
            return min(hinted if hinted is not None else 1.0, self.max_retry_wait)
        if error.status in RETRYABLE_STATUSES:
            return self._backoff(attempt)
        return None

    def _backoff(self, attempt: int) -> float:
        # Exponential with jitter: 0.5 s, 1 s, 2 s, ... (each scaled by 0.5-1.0), capped.
        return min(self.max_retry_wait, 0.5 * (2 ** attempt)) * (0.5 + random.random() / 2)

    def _send(self, method: str, url: str, headers: dict[str, str], data: bytes | None) -> ApiResponse:
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - https/http only
                status, raw_headers, payload = answer.status, answer.headers.items(), answer.read()
        except urllib.error.HTTPError as err:
            with err:
                status, raw_headers, payload = err.code, err.headers.items(), err.read()
        except (urllib.error.URLError, socket.timeout, ConnectionError, HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise errors.APIConnectionError(f"could not reach {url}: {reason}", code="CONNECTION_ERROR") from exc
        out_headers = {k.lower(): v for k, v in raw_headers}
        return ApiResponse(status, out_headers, _decode(payload))


def _decode(payload: bytes) -> Any:
    if not payload:
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", errors="replace")


def _query(params: Mapping[str, Any] | None) -> str:
    if not params:
        return ""
    pairs = [(k, v) for k, v in params.items() if v is not None]
    return "?" + urlencode(pairs, doseq=True) if pairs else ""
