"""What an adapter's `Outcome` does to a post: a pure decision, then one
conditional write (`store.post_leases.record`).

- published / draft / failed: terminal; the post leaves the work queue.
- processing: remember the platform's state, read it again later (a delayed
  message, growing waits), never by sleeping here.
- unknown: the submit's answer was lost; confirm by a read later.
- retry: nothing happened on the platform; submit again after a backoff, at
  most `max_attempts` submits within `retry_window` of the first (plus the time
  recoveries from our own dead workers cost, `windowGrace`), else failed.

`platformState` belongs to one submit attempt. Every non-terminal outcome
replaces it with exactly what the adapter returned (nothing -> removed), and a
retry keeps only what the adapter explicitly carries into the next attempt
(Instagram's container). So a later confirm can never read an older attempt's
publish id and take its failure for this attempt's (docs/adr/0012).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from layers_shared import clock
from layers_shared.domain.pacing import full_jitter
from layers_shared.models.entities import LastError
from layers_shared.platforms.port import Outcome
from layers_shared.publisher.messages import Action
from layers_shared.publisher.settings import MAX_SQS_DELAY, Timings
from layers_shared.store import post_leases
from layers_shared.store.table import Table
from layers_shared.webhooks import outbox

TERMINAL_REMOVE = ["GSI2PK", "GSI2SK", "leaseUntil", "submitStartedAt", "nextAction", "waitingSince"]


@dataclass
class Decision:
    status: str | None                      # the terminal status, or None while publishing
    set: dict[str, Any] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)
    next: tuple[Action, float] | None = None  # the follow-up message and its delay (seconds)

    @property
    def terminal(self) -> bool:
        return self.status is not None


def decide(post: dict[str, Any], outcome: Outcome, now: datetime, timings: Timings,
           rand: Callable[[], float] | None = None) -> Decision:
    """`post` is the item as the worker holds it (attempts, attemptedAt, polls,
    waitingSince). `rand` draws the retry jitter (tests pin it)."""
    stamp = clock.to_storage(now)
    if outcome.kind == "deferred":
        return _deferred(post, outcome)
    if outcome.kind in ("published", "draft"):
        values: dict[str, Any] = {"status": outcome.kind, "publishedAt": stamp}
        if outcome.external_id is not None:
            values["externalId"] = outcome.external_id
        if outcome.external_url is not None:
            values["externalUrl"] = outcome.external_url
        return Decision(outcome.kind, values, TERMINAL_REMOVE + ["lastError"])
    if outcome.kind == "failed":
        return _failed(outcome.error or LastError(code="PLATFORM_ERROR", message="The platform refused the post."))
    if outcome.kind == "retry":
        return _retry(post, outcome, now, timings, rand)
    # processing or unknown: wait, then read the platform again
    since = clock.from_storage(post.get("waitingSince")) or now
    if now - since > timedelta(seconds=timings.processing_limit):
        return _failed(LastError(code="PROCESSING_TIMEOUT",
                                 message="The platform did not finish processing the post in time."))
    polls = int(post.get("polls") or 0)
    delay = outcome.retry_after if outcome.retry_after else min(timings.poll_base * 2 ** polls, timings.poll_cap)
    values = {"polls": polls + 1, "waitingSince": clock.to_storage(since)}
    if outcome.error is not None:
        values["lastTransientError"] = outcome.error.model_dump(exclude_none=True)
    action: Action = "poll" if outcome.kind == "processing" else "confirm"
    values, remove = _with_state(values, ["submitStartedAt"], outcome.state)
    return Decision(None, {**values, "nextAction": action}, remove, (action, min(delay, MAX_SQS_DELAY)))


def _with_state(values: dict[str, Any], remove: list[str], state: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The attempt's platform state replaces the stored one; none removes it."""
    if state:
        return {**values, "platformState": state}, remove
    return values, remove + ["platformState"]


def _failed(error: LastError) -> Decision:
    return Decision("failed", {"status": "failed", "lastError": error.model_dump(exclude_none=True)},
                    list(TERMINAL_REMOVE))


def _retry(post: dict[str, Any], outcome: Outcome, now: datetime, timings: Timings,
           rand: Callable[[], float] | None = None) -> Decision:
    error = outcome.error or LastError(code="PLATFORM_UNAVAILABLE", message="The platform is unavailable.")
    attempts = int(post.get("attempts") or 1)
    first = clock.from_storage(post.get("attemptedAt")) or now
    # Posts that failed together (an outage, one busy token) would otherwise
    # all come back at the same instant and fail together again.
    delay = full_jitter(timings.retry_base * 2 ** (attempts - 1), outcome.retry_after or 0.0, rand)
    delay = min(delay, MAX_SQS_DELAY)
    window_ends = first + _window(post, timings)
    if attempts >= timings.max_attempts or now + timedelta(seconds=delay) > window_ends:
        return _failed(error)
    values = {"nextAction": "submit", "lastTransientError": error.model_dump(exclude_none=True)}
    # Only what the adapter carries goes into the next attempt (a TikTok
    # publish id that FAILED must not be what the next attempt's confirm reads).
    values, remove = _with_state(values, ["submitStartedAt"], outcome.state)
    return Decision(None, values, remove, ("submit", delay))


def _deferred(post: dict[str, Any], outcome: Outcome) -> Decision:
    """Our own pacing held the call back (platforms/pacing.py): nothing was
    sent, so the submit the claim (or `start_submit`) counted did not happen
    and a new one is allowed; and the wait is ours, not the platform's, so it
    goes back to the retry window. The same action runs again after it."""
    action: Action = post.get("nextAction") or "submit"
    delay = max(1.0, min(float(outcome.retry_after or 1.0), MAX_SQS_DELAY))
    grace = math.ceil(float(post.get("windowGrace") or 0) + delay)
    values: dict[str, Any] = {"nextAction": action, "windowGrace": grace}
    remove: list[str] = []
    if action == "submit":
        values["attempts"] = max(0, int(post.get("attempts") or 0) - 1)
        remove.append("submitStartedAt")
    # No lastTransientError: a post that later runs out of window must fail
    # with the platform's error, never with one of our own pacing.
    # Held back, the attempt keeps what it had (a publish id to read, a slot
    # already reserved) plus what the pacing adds.
    state = {**(post.get("platformState") or {}), **outcome.state}
    values, remove = _with_state(values, remove, state)
    return Decision(None, values, remove, (action, delay))


def _window(post: dict[str, Any], timings: Timings) -> timedelta:
    """The platform's retry window plus what recoveries from our own faults cost
    (`windowGrace`, added by `post_leases.recover`)."""
    return timedelta(seconds=timings.retry_window + float(post.get("windowGrace") or 0))


def too_late_to_resubmit(post: dict[str, Any], now: datetime, timings: Timings) -> Outcome | None:
    """A resubmit whose message came late (or was lost and recovered by the
    sweeper) after the retry window closed does not go out: the post fails
    with the error that asked for the retry."""
    first = clock.from_storage(post.get("attemptedAt"))
    if first is None or now <= first + _window(post, timings):
        return None
    last = post.get("lastTransientError")
    error = LastError.model_validate(last) if isinstance(last, dict) else LastError(
        code="PLATFORM_UNAVAILABLE", message="The platform is unavailable.")
    return Outcome("failed", error=error)


def apply(table: Table, post_id: str, token: str, decision: Decision, now: datetime,
          timings: Timings, post: dict[str, Any] | None = None) -> bool:
    """One conditional write; False when the caller no longer holds the post.

    A terminal decision about `post` also puts its post.published / post.failed
    event, in the same transaction: a crash and redelivery around this write
    finds a stale token and writes neither again. A non-terminal one extends
    the lease on the post's item only (no index write)."""
    sets = {**decision.set, "updatedAt": clock.to_storage(now)}
    if decision.next is not None:
        sets["leaseUntil"] = clock.to_storage(now + timedelta(seconds=decision.next[1] + timings.lease))
    also = []
    if decision.terminal and post is not None:
        assert decision.status is not None
        event = outbox.terminal_event(post, decision.status, decision.set, now)
        also.append(outbox.tx_put(table, outbox.terminal_change(post_id), post["organizationId"], [event], now))
    return post_leases.record(table, post_id, token, sets, list(decision.remove), also=also)


def pending(decision: Decision) -> dict[str, Any]:
    """A terminal decision as the post keeps it until it can be written."""
    return {"status": decision.status, "set": decision.set, "remove": list(decision.remove)}


def from_pending(stored: dict[str, Any]) -> Decision:
    return Decision(stored.get("status"), dict(stored.get("set") or {}),
                    list(stored.get("remove") or []) + ["pendingOutcome"])
