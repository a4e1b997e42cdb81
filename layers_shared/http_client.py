"""A small JSON-over-HTTPS client for the live adapters (urllib3, which botocore
already brings, so no extra dependency and no extra cold-start cost).

It tells apart the two failure modes that matter for at-most-once delivery:
`NotSent` (the request never left: safe to retry) and `OutcomeUnknown` (it left
and no answer came back: the caller must confirm by a read, never resend).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError, NewConnectionError, ProtocolError, ReadTimeoutError, MaxRetryError,
)


class NotSent(Exception):
    """The request did not reach the server (DNS, connect refused, connect timeout)."""


class OutcomeUnknown(Exception):
    """The request was sent but no complete answer arrived (read timeout, reset)."""


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text) if self.text else {}
        except ValueError:
            return {"_raw": self.text}

    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class HttpClient:
    def __init__(self, base_url: str, *, connect_timeout: float = 3.0, read_timeout: float = 10.0,
                 default_headers: dict[str, str] | None = None, pool: urllib3.PoolManager | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.default_headers = default_headers or {}
        self._pool = pool or _shared_pool()

    def request(self, method: str, path: str, *, json_body: Any = None, form: dict[str, str] | None = None,
                query: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> HttpResponse:
        url = self.base_url + path
        if query:
            url += ("&" if "?" in url else "?") + urlencode({k: v for k, v in query.items() if v is not None})
        all_headers = {**self.default_headers, **(headers or {})}
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            all_headers.setdefault("Content-Type", "application/json; charset=UTF-8")
        elif form is not None:
            body = urlencode(form).encode("utf-8")
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        try:
            raw = self._pool.request(method, url, body=body, headers=all_headers, timeout=self.timeout,
                                     retries=False, redirect=False)
        except (ConnectTimeoutError, NewConnectionError) as exc:
            raise NotSent(f"{method} {path}: {type(exc).__name__}") from None
        except MaxRetryError as exc:
            reason = exc.reason
            if isinstance(reason, (ConnectTimeoutError, NewConnectionError)):
                raise NotSent(f"{method} {path}: {type(reason).__name__}") from None
            raise OutcomeUnknown(f"{method} {path}: {type(reason).__name__}") from None
        except (ReadTimeoutError, ProtocolError) as exc:
            raise OutcomeUnknown(f"{method} {path}: {type(exc).__name__}") from None
        return HttpResponse(raw.status, {k.lower(): v for k, v in raw.headers.items()},
                            raw.data.decode("utf-8", errors="replace"))


_pool: urllib3.PoolManager | None = None


def _shared_pool() -> urllib3.PoolManager:
    global _pool
    if _pool is None:
        _pool = urllib3.PoolManager(num_pools=16, maxsize=8)
    return _pool
