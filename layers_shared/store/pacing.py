"""Pacing state in the table: per-token call budgets and short leases.

In the table and not in memory because the limits are per platform token
across every Lambda container that holds it (docs/adr/0013). One item per
(kind, subject):

- a budget `PACE#<kind>#<subject>` keeps the instants (epoch ms) of the last
  `limit` calls reserved, and a version for optimistic writes; the slot rule
  is `domain.pacing.next_slot`;
- a lease `LEASE#<kind>#<subject>` is held by one worker until `until`.
"""
from __future__ import annotations

from layers_shared.domain.pacing import keep, next_slot
from layers_shared.store import keys
from layers_shared.store.table import ConditionFailed, Table

# Writers of one token's budget race only when posts of one account run at
# once; each loser re-reads and tries again. Bounded so a pathological pile-up
# defers (the caller waits a window) instead of spinning in an invocation.
MAX_TRIES = 25


class Contended(Exception):
    """The budget item kept changing under us; try again later."""


def budget_key(kind: str, subject: str) -> dict[str, str]:
    return keys.key("PACE", f"{kind}#{subject}")


def lease_key(kind: str, subject: str) -> dict[str, str]:
    return keys.key("LEASE", f"{kind}#{subject}")


class PaceStore:
    def __init__(self, table: Table):
        self.table = table

    def reserve(self, kind: str, subject: str, limit: int, window_ms: int, now_ms: int,
                *, later: bool = True) -> int:
        """The slot (epoch ms) of one more call under `limit` per `window_ms`.
        With `later`, a slot after `now_ms` is reserved too (the caller comes
        back then and calls without reserving again); without it, a slot after
        `now_ms` is only reported, nothing is spent."""
        key = budget_key(kind, subject)
        for _ in range(MAX_TRIES):
            item = self.table.get(key, consistent=True) or {}
            reserved = [int(t) for t in item.get("slots") or []]
            if not later:
                # A budget used only for calls now never holds a future
                # instant, unless some writer's clock ran ahead (the local
                # stack's time travel): such an instant must not block today.
                reserved = [t for t in reserved if t <= now_ms]
            slot = next_slot(reserved, now_ms, limit, window_ms)
            if slot > now_ms and not later:
                return slot
            version = int(item.get("v") or 0)
            try:
                self.table.put({**key, "type": "PACE", "slots": keep(reserved, slot, limit), "v": version + 1,
                                "expiresAt": (slot + window_ms) // 1000 + 60},
                               condition="attribute_not_exists(PK) OR v = :v", values={":v": version})
            except ConditionFailed:
                continue
            return slot
        raise Contended(kind)

    def hold(self, kind: str, subject: str, holder: str, seconds: float, now_ms: int) -> bool:
        """Take the lease unless another holder has it and it has not run out."""
        until = now_ms + int(seconds * 1000)
        try:
            self.table.put({**lease_key(kind, subject), "type": "LEASE", "holder": holder, "until": until,
                            "expiresAt": until // 1000 + 60},
                           condition="attribute_not_exists(PK) OR #until <= :now OR holder = :me",
                           names={"#until": "until"}, values={":now": now_ms, ":me": holder})
        except ConditionFailed:
            return False
        return True

    def pause(self, kind: str, subject: str, until_ms: int) -> None:
        """Hold `kind` calls for `subject` until `until_ms`; a later pause
        already recorded is kept (a shorter one must not cut it)."""
        try:
            self.table.put({**pause_key(kind, subject), "type": "PAUSE", "until": until_ms,
                            "expiresAt": until_ms // 1000 + 60},
                           condition="attribute_not_exists(PK) OR #until < :until",
                           names={"#until": "until"}, values={":until": until_ms})
        except ConditionFailed:
            pass

    def paused_until(self, kind: str, subject: str) -> int:
        item = self.table.get(pause_key(kind, subject))
        return int(item.get("until") or 0) if item else 0


def pause_key(kind: str, subject: str) -> dict[str, str]:
    return keys.key("PAUSE", f"{kind}#{subject}")
