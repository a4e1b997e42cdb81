"""Deliver one post, one step at a time: the work behind each queue message.

A `publish` message re-reads the post, gathers what the adapter needs, claims
the post (which also records that a submit starts) and submits. A `step`
message continues a claimed post: it first exchanges its token for a fresh one
(so a duplicate message does nothing), then submits again, polls or confirms.
Either way the adapter's outcome is applied with a write conditional on the
token, and a follow-up, if any, is a delayed message: nobody waits in here.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Callable

from layers_shared import clock
from layers_shared.models.entities import LastError, ScheduledPost
from layers_shared.platforms.port import Delivery, Outcome
from layers_shared.publisher import adapters, messages, outcome as rules
from layers_shared.publisher.queue import Outgoing, Queue
from layers_shared.publisher.settings import Timings, timings as current_timings
from layers_shared.secrets.vault import TokenVault
from layers_shared.store import account_status, items, keys, post_leases
from layers_shared.store.table import Table, fault_kind

log = logging.getLogger(__name__)
# How long a throttled terminal write waits before it is tried again.
FINISH_DELAY = 5


class Publisher:
    def __init__(self, table: Table, queue: Queue, *, adapter_for: adapters.AdapterFactory | None = None,
                 vault: TokenVault | None = None, timings: Timings | None = None):
        self.table = table
        self.queue = queue
        self.adapter_for = adapter_for or adapters.default_factory(table)
        self.vault = vault or adapters.default_vault(table)
        self.timings = timings or current_timings()

    # -- messages -------------------------------------------------------

    def handle(self, body: dict[str, Any]) -> str:
        """One queue message; returns what happened (for logs and tests)."""
        kind = body.get("kind")
        if kind == "publish" and isinstance(body.get("postId"), str) and isinstance(body.get("scheduledFor"), str):
            return self.publish(body["postId"], body["scheduledFor"])
        if kind == "step" and body.get("action") in ("submit", "poll", "confirm", "finish"):
            return self.step(str(body.get("postId")), str(body.get("token")), body["action"])
        if kind == "slot" and isinstance(body.get("slot"), str):
            from layers_shared.publisher import sweep

            resume = body.get("resume") if isinstance(body.get("resume"), dict) else None
            fanned = sweep.fan_out(self.table, self.queue, body["slot"], clock.now(), resume=resume)
            return f"fanned-out:{fanned}"
        log.warning("ignoring a message the publisher does not know: %s", kind)
        return "ignored"

    def publish(self, post_id: str, expected: str) -> str:
        now = clock.now()
        post = items.from_item(ScheduledPost, self.table.get(keys.scheduled_post(post_id), consistent=True))
        if post is None or post.status != "queued" or post.scheduledFor != expected:
            return "skipped"  # canceled, rescheduled, or already claimed: a stale or duplicate firing
        if post.scheduledFor > clock.to_storage(now):
            return "early"
        delivery = adapters.delivery_for(self.table, self.vault, post)
        held = post_leases.claim(self.table, post_id, expected, now, self.timings.lease)
        if held is None:
            return "lost-claim"
        token, item = held
        if isinstance(delivery, Outcome):
            return self._record(item, token, delivery)
        delivery.post = ScheduledPost.model_validate(item)
        outcome = _call(lambda: self.adapter_for(delivery.post).submit(delivery))
        return self._record(item, token, outcome, delivery)

    def step(self, post_id: str, token: str, action: messages.Action) -> str:
        held = post_leases.take_step(self.table, post_id, token, action, clock.now(), self.timings.lease)
        if held is None:
            return "stale"
        token, item = held
        if action == "finish":
            return self._write(item, token, rules.from_pending(item.get("pendingOutcome") or {}), clock.now())
        post = ScheduledPost.model_validate(item)
        delivery = adapters.delivery_for(self.table, self.vault, post, submitted=action != "submit")
        if isinstance(delivery, Outcome):
            return self._record(item, token, delivery)
        adapter = self.adapter_for(post)
        state = dict(item.get("platformState") or {})
        late = rules.too_late_to_resubmit(item, clock.now(), self.timings) if action == "submit" else None
        if late is not None:
            return self._record(item, token, late)
        if action == "submit":
            started = post_leases.start_submit(self.table, post_id, token, clock.now())
            if started is None:
                return "stale"
            item = started
            delivery.post = ScheduledPost.model_validate(item)
            outcome = _call(lambda: adapter.submit(delivery))
        elif action == "poll":
            outcome = _call(lambda: adapter.poll(delivery, state), keep=state)
        else:
            outcome = _call(lambda: adapter.confirm(delivery, state), keep=state)
        return self._record(item, token, outcome, delivery)

    # -- outcomes -------------------------------------------------------

    def _record(self, item: dict[str, Any], token: str, outcome: Outcome, delivery: Delivery | None = None) -> str:
        # Account side effects first: a rotated refresh token must be kept even
        # if this worker has lost the post in the meantime.
        if outcome.new_credentials is not None and delivery is not None:
            self.vault.put(delivery.account.id, outcome.new_credentials)
        if outcome.account_status:
            self._set_account_status(item["socialAccountId"], outcome.account_status)
        now = clock.now()
        return self._write(item, token, rules.decide(item, outcome, now, self.timings), now)

    def _write(self, item: dict[str, Any], token: str, decision: rules.Decision, now: Any) -> str:
        try:
            written = rules.apply(self.table, item["id"], token, decision, now, self.timings, post=item)
        except Exception as exc:
            if not decision.terminal or fault_kind(exc) is None:
                raise
            # The platform answered and the terminal write (post, index entry and
            # event together) was throttled or lost: keep the answer on the
            # post's own item and write it later, never ask the platform again.
            log.warning("terminal write failed (%s); kept as pendingOutcome", fault_kind(exc))
            lease_until = now + timedelta(seconds=FINISH_DELAY + self.timings.lease)
            if not post_leases.save_pending(self.table, item["id"], token, rules.pending(decision), lease_until, now):
                return "stale"  # it was written after all (an answer lost), or someone else holds the post
            self.queue.send([Outgoing(messages.step(item["id"], token, "finish"), FINISH_DELAY)])
            return "wait:finish"
        if not written:
            return "stale"
        if decision.next is not None:
            action, delay = decision.next
            self.queue.send([Outgoing(messages.step(item["id"], token, action), delay)])
            return f"wait:{action}"
        return decision.status or "?"

    def _set_account_status(self, account_id: str, status: str) -> None:
        if status == "reauth_required":
            account_status.needs_reauth(self.table, account_id, clock.now())
        else:
            account_status.set_status(self.table, account_id, status, clock.now())


def _call(fn: Callable[[], Outcome], keep: dict[str, Any] | None = None) -> Outcome:
    """An adapter that raises has not told us whether anything went out: treat
    it like a lost answer (confirm later by a read). A read that raised keeps
    the state the attempt's submit recorded (`keep`); a submit has none yet."""
    try:
        return fn()
    except Exception as exc:
        log.exception("platform adapter raised; the outcome will be confirmed by a read")
        return Outcome("unknown", state=dict(keep or {}),
                       error=LastError(code="ADAPTER_ERROR", message=type(exc).__name__))
