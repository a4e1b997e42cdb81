"""Approve / reject: which move a container's approval state allows (pure).

docs/adr/0020-approval-transitions.md: `pending` is the only state that moves;
repeating the decision already taken is harmless (200, the stored decision),
the opposite decision is a 409, and content that needs no approval is a 409
(`NOT_PENDING`) rather than a silent change of its state.
"""
from __future__ import annotations

from typing import Any, Literal

from layers_shared.domain.errors import Conflict, ContentRejected, DomainError
from layers_shared.models.entities import Container

Move = Literal["decide", "already"]


def not_pending(container: Container, action: str) -> Conflict:
    return Conflict(
        "NOT_PENDING",
        f"Content container {container.id} is '{container.approvalStatus}'; only a pending container can be {action}.",
        containerId=container.id, approvalStatus=container.approvalStatus,
    )


def approve_move(container: Container) -> Move:
    """`decide` to approve now, `already` when it is approved (no second promotion)."""
    if container.approvalStatus == "approved":
        return "already"
    if container.approvalStatus == "rejected":
        raise ContentRejected(container.id)
    if container.approvalStatus != "pending":
        raise not_pending(container, "approved")
    if container.status != "completed":
        # You approve what you have seen: content still generating has nothing to review yet.
        raise Conflict("CONTENT_NOT_READY", f"Content container {container.id} is '{container.status}', "
                       "not 'completed'.", containerId=container.id, status=container.status)
    return "decide"


def reject_move(container: Container) -> Move:
    """`decide` to reject now, `already` when it is rejected (the first reason stays)."""
    if container.approvalStatus == "rejected":
        return "already"
    if container.approvalStatus != "pending":
        # An approved container may already have live posts; un-approving them is not this call.
        raise not_pending(container, "rejected")
    return "decide"


def stashed_ids(pending: dict[str, Any] | None) -> list[str]:
    if not pending:
        return []
    return [str(t.get("scheduledPostId")) for t in pending.get("targets", []) if t.get("scheduledPostId")]


def promotion_ok(post_ids: list[str]) -> dict[str, Any]:
    return {"status": "ok", "scheduledPostIds": post_ids}


def promotion_failed(error: DomainError) -> dict[str, Any]:
    """The stash could not become rows: approval still happens, the block says why."""
    return {"status": "failed", "reason": error.code, "message": error.message, "details": error.details}
