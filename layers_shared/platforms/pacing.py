"""Per-token pacing as a platform adapter sees it (issue 13).

An adapter asks before a limited call; when the token's budget has no room
now, the call does not go out and the adapter answers `deferred` with the slot
it reserved. The publisher then waits (a delayed step, no attempt spent, the
retry window untouched) and the next step calls at that slot without
reserving again: each post waits once, however many share the token.

Budgets are keyed by account, like creator_info's: an account holds one token
at a time, and a rotated token is the same user's budget anyway.
"""
from __future__ import annotations

import logging
import random
import uuid
from typing import Any

from layers_shared import clock
from layers_shared.domain.pacing import meta_usage_waits
from layers_shared.models.entities import LastError
from layers_shared.platforms.port import Outcome
from layers_shared.store.pacing import Contended, PaceStore

log = logging.getLogger(__name__)

# platform-apis.md §1.7: per token, one-minute sliding window.
TIKTOK_LIMITS = {"tiktok_init": 6, "tiktok_status": 30}
MINUTE_MS = 60_000
# A reserved slot is called a little late (SQS delivers a delay late, and the
# claim, the credential read and creator_info come before the init). Spacing
# the budget by a minute plus this margin, and honouring a held slot only
# within it, keeps the calls themselves inside TikTok's minute.
MARGIN_MS = 3_000
WINDOW_MS = MINUTE_MS + MARGIN_MS
# One token refresh per account at a time: long enough to cover the refresh
# call and the vault write that follows it; short so a crashed holder does
# not keep the account waiting.
REFRESH_LEASE_SECONDS = 30.0
REFRESH_WAIT_SECONDS = 5.0
# Instagram's publishing quota is a moving 24 h whose oldest post we cannot
# see: look again after one SQS delay (the longest single wait).
QUOTA_RECHECK_SECONDS = 900.0
META_APP = "app"  # X-App-Usage is one budget for the whole app


class TokenPacing:
    def __init__(self, store: PaceStore, account_id: str, limits: dict[str, int] | None = None):
        self.store = store
        self.account_id = account_id
        self.limits = dict(limits or TIKTOK_LIMITS)
        self.holder = uuid.uuid4().hex  # this call's claim on the refresh lease

    def before(self, kind: str, state: dict[str, Any] | None) -> Outcome | None:
        """None when a `kind` call may go out now; else the `deferred` outcome
        that carries the reserved slot (and `state`, e.g. a publish id)."""
        state = dict(state or {})
        now = _millis()
        held = state.pop("pacedUntil", None) if state.get("pacedFor") == kind else None
        state.pop("pacedFor", None)
        if isinstance(held, (int, float)) and not isinstance(held, bool):
            if int(held) <= now <= int(held) + MARGIN_MS:
                return None
            if int(held) > now:
                return _deferred(kind, state, int(held), now)
            # Far later than its slot (a lost message, a long outage): that
            # slot no longer protects the window, so take a fresh one.
        try:
            slot = self.store.reserve(kind, self.account_id, self.limits[kind], WINDOW_MS, now)
        except Contended:
            wait = 1.0 + random.random() * REFRESH_WAIT_SECONDS
            return Outcome("deferred", state=state, retry_after=wait,
                           error=LastError(code="PACED", message="The account's call budget is busy; trying shortly."))
        if slot <= now:
            return None
        return _deferred(kind, state, slot, now)

    def held_by_platform(self) -> Outcome | None:
        """Meta asked us (usage headers) to hold this app's or this account's
        Graph calls and the pause is still running: deferred, nothing sent."""
        now = _millis()
        until = max(self.store.paused_until("meta_usage", META_APP),
                    self.store.paused_until("meta_usage", self.account_id))
        if until <= now:
            return None
        return Outcome("deferred", retry_after=(until - now) / 1000.0, error=LastError(
            code="PACED", message="Held back: Meta reported this app's or account's call usage near its limit."))

    def saw_usage(self, headers: dict[str, str]) -> None:
        """Record a pause when a Graph answer's usage headers ask for one."""
        app, business = meta_usage_waits(headers)
        now = _millis()
        if app is not None:
            self.store.pause("meta_usage", META_APP, now + int(app * 1000))
        if business is not None:
            self.store.pause("meta_usage", self.account_id, now + int(business * 1000))

    def hold_refresh(self) -> bool:
        return self.store.hold("token_refresh", self.account_id, self.holder, REFRESH_LEASE_SECONDS, _millis())


def refresh_busy() -> Outcome:
    return Outcome("deferred", retry_after=REFRESH_WAIT_SECONDS, error=LastError(
        code="TOKEN_REFRESH_IN_PROGRESS", message="Another worker is refreshing this account's token; "
        "nothing was posted, trying again with the refreshed token."))


def quota_full(state: dict[str, Any]) -> Outcome:
    """Instagram's publishing quota for the account is used up: the container
    waits (it stays publishable for 24 h) and nothing is spent."""
    return Outcome("deferred", state=dict(state), retry_after=QUOTA_RECHECK_SECONDS, error=LastError(
        code="PACED", message="Held back: the account's Instagram publishing quota for the last 24 h is used up."))


def _deferred(kind: str, state: dict[str, Any], slot: int, now: int) -> Outcome:
    return Outcome("deferred", state={**state, "pacedFor": kind, "pacedUntil": slot},
                   retry_after=(slot - now) / 1000.0,
                   error=LastError(code="PACED", message=f"Held back to stay within the platform's {kind} "
                                                         "limit for this account; nothing was sent."))


def _millis() -> int:
    return int(clock.now().timestamp() * 1000)
