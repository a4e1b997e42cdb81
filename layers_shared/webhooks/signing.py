"""Signing secrets and the `X-Layers-Signature` header (webhooks.md, Delivery).

The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>]`: HMAC-SHA256 of
`"<t>.<raw body>"` keyed with each live secret's UTF-8 bytes, the newest first
(two values during a rotation's 24 h overlap)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    message = str(timestamp).encode() + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def header(secrets: list[str], timestamp: int, raw_body: bytes) -> str:
    return ",".join([f"t={timestamp}"] + [f"v1={signature(s, timestamp, raw_body)}" for s in secrets])


def verify(secrets: list[str] | str, value: str, raw_body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (the SDK has its own copy, without this package)."""
    wanted = [secrets] if isinstance(secrets, str) else list(secrets)
    stamp, sigs = None, []
    for part in (value or "").split(","):
        name, _, v = part.strip().partition("=")
        if name == "t" and v.isdigit():
            stamp = int(v)
        elif name == "v1":
            sigs.append(v)
    if stamp is None or abs(now - stamp) > tolerance:
        return False
    expected = [signature(s, stamp, raw_body) for s in wanted]
    return any(hmac.compare_digest(e, s) for e in expected for s in sigs)
