"""`GET /_local/sandbox/deliveries`: local stack only, never deployed, no auth."""
from __future__ import annotations

from local import server


@server.on_startup
def _register(stack: server.Stack) -> None:
    from layers_shared.sandbox import deliveries

    server.local_routes[("GET", "/_local/sandbox/deliveries")] = lambda: (200, {"items": deliveries.list_all(stack.table)})
