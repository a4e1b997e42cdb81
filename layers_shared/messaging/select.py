"""Which `MessagingPort` serves a request (docs/adr/0054).

- `SMS_PROVIDER=none`: no provider for any key (notify-device answers 503).
- `lp_test_` keys: the sandbox messenger; each accepted message is recorded as
  a sandbox delivery (`GET /_local/sandbox/deliveries`).
- `lp_live_` keys: Linq from configuration, or None when no token is set.

Read per request (not at import) so that configuration, and the local stack's
tests, can switch it without a new process.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from layers_shared.auth import Principal
from layers_shared.messaging.port import MessagingPort
from layers_shared.store.table import Table

SANDBOX = "sandbox"
LINQ = "linq"


@dataclass(frozen=True)
class Messenger:
    port: MessagingPort
    provider: str  # scopes stored chat ids: a sandbox chat is no Linq chat


def provider_switched_off() -> bool:
    return (os.environ.get("SMS_PROVIDER") or "").strip().lower() == "none"


def messenger_for(principal: Principal, table: Table, *, container_id: str, phone: str) -> Messenger | None:
    if provider_switched_off():
        return None
    if principal.is_test:
        from layers_shared.messaging.sandbox import SandboxMessenger

        return Messenger(SandboxMessenger(record=_recorder(table, container_id, phone)), SANDBOX)
    from layers_shared.messaging.linq import LinqAdapter

    adapter = LinqAdapter.from_env()
    return Messenger(adapter, LINQ) if adapter is not None else None


def _recorder(table: Table, container_id: str, phone: str) -> Any:
    """The sandbox reports each accepted message; keep it where every instance
    (and the local stack's deliveries route) can count it. The phone is bound
    here: the sandbox does not know it for a chat created by another request."""
    from layers_shared.sandbox import deliveries

    def record(*, kind: str = "sms", message_idempotency_key: str = "", parts: Any = (), **_: Any) -> None:
        deliveries.record(table, kind, containerId=container_id, phoneNumber=phone,
                          messageKey=message_idempotency_key, parts=[_wire(p) for p in parts])

    return record


def _wire(part: Any) -> dict[str, str]:
    """The sandbox reports parts in Linq's wire shape; a `Part` is accepted too."""
    return dict(part) if isinstance(part, dict) else part.to_linq()
