"""What travels on the publish queue. Small on purpose: the table holds the
truth, a message only says which post to look at and with which right.

- `publish`: a post is (probably) due; whoever claims it may submit.
- `step`: continue a claimed post (`action` submit | poll | confirm | finish) holding
  `token`; a message with a stale token does nothing.
- `slot`: a trigger that arrived early, parked until its time, or a fan-out's
  continuation.
"""
from __future__ import annotations

from typing import Any, Literal

Action = Literal["submit", "poll", "confirm", "finish"]


def publish(post_id: str, scheduled_for: str) -> dict[str, Any]:
    return {"kind": "publish", "postId": post_id, "scheduledFor": scheduled_for}


def step(post_id: str, token: str, action: Action) -> dict[str, Any]:
    return {"kind": "step", "postId": post_id, "token": token, "action": action}


def slot(instant: str, resume: dict[str, Any] | None = None) -> dict[str, Any]:
    """`resume`: per shard, where a fan-out that ran out of time continues."""
    body: dict[str, Any] = {"kind": "slot", "slot": instant}
    if resume is not None:
        body["resume"] = resume
    return body
