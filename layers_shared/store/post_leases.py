"""The publisher's leases on posts: the conditional writes that make
publishing at-most-once (the DynamoDB side; the publisher decides, this writes).

Every write that moves a post forward names what it expects to find: the
claim expects `queued` at the expected `scheduledFor` and no later than now;
every later write expects `publishing` with the caller's `attemptToken`. Only
one caller can hold a token, so only one can submit or finish a post.

Where a post sits in the work queue (GSI2, keys only) is written by the claim,
a recovery and a terminal write only. A lease extension (`take_step`, a
non-terminal outcome) changes `leaseUntil`, which the index does not carry, so
it writes nothing to the index: a post's index writes are constant however
long it polls, and the write that records a platform's id after a submit
touches the post's own item alone, the one write a hot index partition cannot
throttle (docs/adr/0090). The sweeper moves an entry whose lease was extended
(`reindex`) when it finds it.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from layers_shared import clock
from layers_shared.store import items, keys
from layers_shared.store.table import ConditionFailed, Table, TransactionCanceled

Action = Literal["submit", "poll", "confirm", "finish"]

NAMES = {"#s": "status", "#sf": "scheduledFor", "#tok": "attemptToken", "#lease": "leaseUntil",
         "#started": "submitStartedAt", "#next": "nextAction", "#att": "attempts", "#at": "attemptedAt",
         "#upd": "updatedAt", "#wq": "GSI2PK", "#wqs": "GSI2SK", "#grace": "windowGrace",
         "#pending": "pendingOutcome"}
# The retry window is the platform's time: what waiting out a dead worker's
# lease before a confirm costs is added back, up to this much in all, so a
# post is never resubmitted more than retry_window + MAX_GRACE after its first
# attempt.
MAX_GRACE = 1800


def new_token() -> str:
    return uuid.uuid4().hex


def lease_attrs(post_id: str, until: datetime) -> dict[str, str]:
    """The post's place in the `publishing` work queue, ordered by lease end."""
    stamp = clock.to_storage(until)
    attrs = items.work_queue_attrs(post_id, "publishing", stamp)
    return {":lease": stamp, ":wq": attrs["GSI2PK"], ":wqs": attrs["GSI2SK"]}


def _names(expression: str) -> dict[str, str]:
    used = set(re.findall(r"#\w+", expression))
    return {k: v for k, v in NAMES.items() if k in used}


def _update(table: Table, post_id: str, expression: str, condition: str,
            values: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return table.update(keys.scheduled_post(post_id), expression, names=_names(expression + " " + condition),
                            values=values, condition=condition, return_new=True)
    except ConditionFailed:
        return None


def claim(table: Table, post_id: str, expected_scheduled_for: str, now: datetime,
          lease: float) -> tuple[str, dict[str, Any]] | None:
    """`queued -> publishing` and "a submit starts now", in one conditional
    write. None when the post is not queued, was rescheduled (another
    `scheduledFor`) or is not due yet: the firing was a duplicate, stale or early."""
    token, stamp = new_token(), clock.to_storage(now)
    expression = ("SET #s = :publishing, #at = if_not_exists(#at, :now), #att = if_not_exists(#att, :zero) + :one, "
                  "#tok = :tok, #lease = :lease, #started = :now, #next = :submit, #upd = :now, "
                  "#wq = :wq, #wqs = :wqs")
    condition = "#s = :queued AND #sf = :expected AND #sf <= :now"
    values = {":publishing": "publishing", ":queued": "queued", ":expected": expected_scheduled_for,
              ":now": stamp, ":zero": 0, ":one": 1, ":tok": token, ":submit": "submit",
              **lease_attrs(post_id, now + timedelta(seconds=lease))}
    item = _update(table, post_id, expression, condition, values)
    return (token, item) if item is not None else None


def take_step(table: Table, post_id: str, token: str, action: Action, now: datetime,
              lease: float) -> tuple[str, dict[str, Any]] | None:
    """Exchange the token a message carries for a fresh one (duplicates of the
    message then find a stale token and do nothing) and extend the lease
    (the item only: the index entry stays where it is)."""
    fresh, stamp = new_token(), clock.to_storage(now)
    expression = "SET #tok = :fresh, #lease = :lease, #upd = :now"
    condition = "#s = :publishing AND #tok = :tok AND #next = :action"
    values = {":publishing": "publishing", ":tok": token, ":fresh": fresh, ":action": action, ":now": stamp,
              ":lease": clock.to_storage(now + timedelta(seconds=lease))}
    item = _update(table, post_id, expression, condition, values)
    return (fresh, item) if item is not None else None


def start_submit(table: Table, post_id: str, token: str, now: datetime) -> dict[str, Any] | None:
    """Recorded before every submit after the first: a crash from here on is
    recovered by a read (confirm), never by another submit."""
    stamp = clock.to_storage(now)
    expression = "SET #started = :now, #att = if_not_exists(#att, :zero) + :one, #upd = :now"
    condition = "#s = :publishing AND #tok = :tok AND attribute_not_exists(#started)"
    values = {":publishing": "publishing", ":tok": token, ":now": stamp, ":zero": 0, ":one": 1}
    return _update(table, post_id, expression, condition, values)


def recover(table: Table, item: dict[str, Any], now: datetime, lease: float) -> tuple[str, Action] | None:
    """Take over a post whose lease ran out (its worker died or its message was
    lost). A submit that had started is only ever confirmed; an outcome that
    was decided but not written (`pendingOutcome`) is only ever written."""
    post_id, old = item["id"], item.get("attemptToken")
    if not old:
        return None
    action: Action
    if item.get("pendingOutcome"):
        action = "finish"
    elif item.get("submitStartedAt"):
        action = "confirm"
    else:
        action = item.get("nextAction") or "confirm"
    fresh, stamp = new_token(), clock.to_storage(now)
    expression = ("SET #tok = :fresh, #next = :action, #lease = :lease, #upd = :now, #wqs = :wqs, "
                  "#grace = :grace")
    condition = "#s = :publishing AND #tok = :tok AND #lease <= :now"
    values = {":publishing": "publishing", ":tok": old, ":fresh": fresh, ":action": action, ":now": stamp,
              ":grace": grace_after_recovery(item, now, lease) if item.get("submitStartedAt")
              else int(item.get("windowGrace") or 0),
              **lease_attrs(post_id, now + timedelta(seconds=lease))}
    values.pop(":wq")
    return (fresh, action) if _update(table, post_id, expression, condition, values) is not None else None


def grace_after_recovery(item: dict[str, Any], now: datetime, lease: float) -> int:
    """A submit was in flight when its worker vanished: the at-most-once rule
    forbids doing anything but wait out the lease and then read. That wait
    (the lease and the sweep's lag) is ours, not the platform's, so it goes
    back to the retry window."""
    ended = clock.from_storage(item.get("leaseUntil")) or now
    lost = lease + max(0.0, (now - ended).total_seconds())
    return int(min(MAX_GRACE, float(item.get("windowGrace") or 0) + lost))


def reindex(table: Table, post_id: str, indexed: str, lease_until: str, now: datetime) -> bool:
    """Move a work-queue entry whose lease was extended to the lease's end as
    read (the sweeper found it at the old one). Conditional on the entry not
    having moved and the lease still running: otherwise a recovery is what is
    due. A lease extended again since the read is found and moved once more."""
    expression = "SET #wqs = :wqs"
    condition = "#s = :publishing AND #wqs = :old AND #lease > :now"
    values = {":publishing": "publishing", ":old": indexed, ":now": clock.to_storage(now),
              ":wqs": f"{lease_until}#{post_id}"}
    return _update(table, post_id, expression, condition, values) is not None


def record(table: Table, post_id: str, token: str, sets: dict[str, Any], removes: list[str],
           also: list[dict[str, Any]] | None = None) -> bool:
    """Apply an outcome, only while the caller still holds the post; with
    `also` (a webhook event), one transaction: both or neither."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts = []
    for i, (name, value) in enumerate(sets.items()):
        names[f"#f{i}"], values[f":v{i}"] = name, value
        parts.append(f"#f{i} = :v{i}")
    expression = "SET " + ", ".join(parts)
    if removes:
        names.update({f"#r{i}": name for i, name in enumerate(removes)})
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
    return finish(table, post_id, token, expression, values, extra_names=names, also=also)


def save_pending(table: Table, post_id: str, token: str, pending: dict[str, Any], lease_until: datetime,
                 now: datetime) -> bool:
    """The outcome's write could not be made (throttled): keep what the
    platform answered on the post's own item (no index, no other item) so a
    later `finish` writes it without asking the platform again."""
    expression = "SET #pending = :pending, #next = :finish, #lease = :lease, #upd = :now"
    values = {":pending": pending, ":finish": "finish", ":lease": clock.to_storage(lease_until),
              ":now": clock.to_storage(now)}
    return finish(table, post_id, token, expression, values)


def finish(table: Table, post_id: str, token: str, expression: str, values: dict[str, Any],
           extra_names: dict[str, str] | None = None, also: list[dict[str, Any]] | None = None) -> bool:
    """A conditional write while the caller still holds the post; with `also`,
    one transaction: both or neither."""
    condition = "#s = :publishing AND #tok = :tok"
    names = {**_names(expression + " " + condition), **(extra_names or {})}
    values = {**values, ":publishing": "publishing", ":tok": token}
    if also:
        try:
            table.transact([table.tx_update(keys.scheduled_post(post_id), expression, names=names, values=values,
                                            condition=condition), *also])
        except TransactionCanceled as exc:
            if "ConditionalCheckFailed" in exc.reasons:
                return False
            raise
        return True
    try:
        table.update(keys.scheduled_post(post_id), expression, names=names, values=values, condition=condition)
    except ConditionFailed:
        return False
    return True
