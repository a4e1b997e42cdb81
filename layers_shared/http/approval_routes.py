"""The HTTP side of approve and reject: the request as a command, the decision
as the documented answer."""
from __future__ import annotations

from typing import Any

from layers_shared import clock
from layers_shared.domain.model_checks import require
from layers_shared.http.api import Request, Response
from layers_shared.models.requests import ApproveBody, RejectBody
from layers_shared.services import approval, queries
from layers_shared.store.containers import DynamoContainers
from layers_shared.store.schedule_world import DynamoScheduleWorlds


def _content(req: Request) -> queries.ById:
    return queries.ById(req.principal.organization_id, req.path_id("containerId", "cnt"), req.path["containerId"])


def approve(req: Request) -> Response:
    note = require(ApproveBody, req.json_body()).note
    ports = approval.Ports(DynamoContainers(req.table), DynamoScheduleWorlds(req.table))
    done = approval.approve(ports, approval.Decide(_content(req), req.principal.key_id, note),
                            req.remembering(approved_answer))
    return approved_answer(done)


def reject(req: Request) -> Response:
    reason = require(RejectBody, req.json_body()).reason
    done = approval.reject(DynamoContainers(req.table), approval.Decide(_content(req), req.principal.key_id, reason))
    return Response(200, rejected_view(done.container, done.dropped))


def approved_answer(done: approval.Approved) -> Response:
    return Response(200, approved_view(done.container, done.promotion))


def approved_view(container: Any, promotion: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": container.id,
        "approvalStatus": "approved",
        "approvedAt": clock.to_wire(container.approvedAt),
        "approvedBy": container.approvedBy,
        "pendingSchedulePromotion": promotion,
    }


def rejected_view(container: Any, dropped: list[str]) -> dict[str, Any]:
    return {
        "id": container.id,
        "approvalStatus": "rejected",
        "rejectedAt": clock.to_wire(container.rejectedAt),
        "rejectedBy": container.rejectedBy,
        "rejectionReason": container.rejectionReason,
        "reason": container.rejectionReason,  # the name platform.md §8.3 documents
        "droppedScheduledPostIds": dropped,
    }
