"""Webhooks: manage endpoints (`Layers(...).webhooks`) and verify what
arrives (`verify_signature`, no API key needed).

A receiver in three lines:

    from layers.webhooks import verify_signature
    if not verify_signature(secret, headers["X-Layers-Signature"], raw_body):
        return 400  # then dedupe on headers["X-Layers-Event-Id"]
"""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, Iterator, Mapping, Sequence

from layers._resources import _p, _pages
from layers._transport import Transport


def verify_signature(secrets: str | Sequence[str], header: str | None, raw_body: bytes | str,
                     tolerance: int = 300, now: float | None = None) -> bool:
    """True when `X-Layers-Signature` (`t=<unix>,v1=<hex>[,v1=<hex>]`) carries an
    HMAC-SHA256 of `"<t>.<raw body>"` under one of `secrets`, and `t` is within
    `tolerance` seconds of now. Pass the raw bytes as received: a re-serialized
    JSON body does not verify. During a rotation pass both secrets, or either."""
    wanted = [secrets] if isinstance(secrets, str) else list(secrets)
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
    stamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            stamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if stamp is None or not signatures or not wanted:
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    message = str(stamp).encode() + b"." + body
    expected = [hmac.new(s.encode("utf-8"), message, hashlib.sha256).hexdigest() for s in wanted]
    return any(hmac.compare_digest(e, s) for e in expected for s in signatures)


class Webhooks:
    verify_signature = staticmethod(verify_signature)

    def __init__(self, transport: Transport):
        self._t = transport

    def create_endpoint(self, url: str, events: Sequence[str], description: str | None = None,
                        project_id: str | None = None, metadata: Mapping[str, str] | None = None,
                        idempotency_key: str | None = None) -> dict[str, Any]:
        """`{endpoint, signingSecret}`: keep the secret, it is shown only here."""
        body: dict[str, Any] = {"url": url, "events": list(events)}
        if description is not None:
            body["description"] = description
        if project_id is not None:
            body["projectId"] = project_id
        if metadata is not None:
            body["metadata"] = dict(metadata)
        return self._t.request("POST", "/v1/webhook-endpoints", body=body, idempotency_key=idempotency_key).body

    def list_endpoints(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return _pages(self._t, "/v1/webhook-endpoints", {"limit": limit})

    def get_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        return self._t.request("GET", f"/v1/webhook-endpoints/{_p(endpoint_id)}").body

    def update_endpoint(self, endpoint_id: str, *, url: str | None = None, events: Sequence[str] | None = None,
                        description: str | None = None, status: str | None = None,
                        metadata: Mapping[str, str | None] | None = None,
                        idempotency_key: str | None = None) -> dict[str, Any]:
        """Only the fields given change; `metadata` merges per key (None removes a key)."""
        body: dict[str, Any] = {}
        for name, value in (("url", url), ("events", list(events) if events is not None else None),
                            ("description", description), ("status", status),
                            ("metadata", dict(metadata) if metadata is not None else None)):
            if value is not None:
                body[name] = value
        return self._t.request("PATCH", f"/v1/webhook-endpoints/{_p(endpoint_id)}", body=body,
                               idempotency_key=idempotency_key).body

    def delete_endpoint(self, endpoint_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
        return self._t.request("DELETE", f"/v1/webhook-endpoints/{_p(endpoint_id)}",
                               idempotency_key=idempotency_key).body

    def rotate_secret(self, endpoint_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
        """`{endpoint, signingSecret}`; the old secret still signs for 24 h."""
        return self._t.request("POST", f"/v1/webhook-endpoints/{_p(endpoint_id)}/rotate-secret",
                               idempotency_key=idempotency_key).body

    def test(self, endpoint_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
        """Sends a test.ping: `{deliveryId, eventId}`."""
        return self._t.request("POST", f"/v1/webhook-endpoints/{_p(endpoint_id)}/test",
                               idempotency_key=idempotency_key).body

    def list_deliveries(self, endpoint_id: str, event_type: str | None = None, status: str | None = None,
                        limit: int | None = None) -> Iterator[dict[str, Any]]:
        return _pages(self._t, f"/v1/webhook-endpoints/{_p(endpoint_id)}/deliveries",
                      {"eventType": event_type, "status": status, "limit": limit})

    def replay(self, delivery_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
        return self._t.request("POST", f"/v1/webhook-deliveries/{_p(delivery_id)}/replay",
                               idempotency_key=idempotency_key).body
