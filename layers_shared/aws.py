"""AWS clients, created once per execution environment and only when used.

boto3 is imported lazily so that a function pays for it on its first AWS call,
not at import; the clients are module-level so warm invocations reuse them.
"""
from __future__ import annotations

import os
import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
            # Pools sized for the publisher's threads (a batch side by side, a fan-out per shard).
            config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=5,
                            max_pool_connections=32)
            _clients[service] = boto3.session.Session().client(service, region_name=region, config=config)
        return _clients[service]


def reset() -> None:
    """Drop cached clients (tests switch between moto worlds)."""
    with _lock:
        _clients.clear()
