"""The scheduled-post lifecycle, pure (decisions.md, "Scheduled post lifecycle").

    queued -> publishing -> published | draft | failed
    queued -> canceled

Partners may only steer (reschedule, cancel) a post that is still `queued`.
Once the publisher has claimed it (`publishing`) the answer is
`ALREADY_PUBLISHING`; once it has ended (terminal) it is `NOT_QUEUED`.
"""
from __future__ import annotations

from typing import get_args

from layers_shared.domain.errors import Conflict
from layers_shared.models.entities import TERMINAL_STATUSES, PostStatus

STATUSES: tuple[str, ...] = get_args(PostStatus)
TERMINAL: frozenset[str] = frozenset(TERMINAL_STATUSES)

TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"publishing", "canceled"}),
    "publishing": frozenset({"published", "draft", "failed"}),
    **{status: frozenset() for status in TERMINAL},
}

ALREADY_PUBLISHING = "ALREADY_PUBLISHING"
NOT_QUEUED = "NOT_QUEUED"


def is_terminal(status: str) -> bool:
    return status in TERMINAL


def can_transition(source: str, target: str) -> bool:
    return target in TRANSITIONS.get(source, frozenset())


def can_steer(status: str) -> bool:
    """Reschedule and cancel act on `queued` posts only."""
    return status == "queued"


def conflict_reason(status: str) -> str | None:
    """Why a post in `status` cannot be rescheduled or canceled (None: it can)."""
    if can_steer(status):
        return None
    if status == "publishing":
        return ALREADY_PUBLISHING
    return NOT_QUEUED


def steer_conflict(post_id: str, status: str, action: str) -> Conflict:
    """The 409 for `action` ("reschedule" / "cancel") on a post that is not queued."""
    reason = conflict_reason(status) or NOT_QUEUED
    if reason == ALREADY_PUBLISHING:
        message = f"Scheduled post {post_id} is already publishing; it can no longer {action}."
    else:
        message = f"Scheduled post {post_id} is '{status}'; only queued posts can {action}."
    return Conflict(reason, message, scheduledPostId=post_id, status=status)


def require_steerable(post_id: str, status: str, action: str) -> None:
    if not can_steer(status):
        raise steer_conflict(post_id, status, action)
