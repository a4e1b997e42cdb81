"""Approve/reject transitions and the promotion block, pure."""
from __future__ import annotations

import pytest

from layers_shared.domain import errors
from layers_shared.domain import approval as rules
from layers_shared.models.entities import Container

CID = "cnt_66666666-6666-4666-8666-000000000007"


def container(approval: str, status: str = "completed", **kw) -> Container:
    return Container(id=CID, projectId="prj_x", organizationId="org_x", status=status, approvalStatus=approval,
                     mediaType="video", **kw)


def raised(fn, *args) -> errors.DomainError:
    with pytest.raises(errors.DomainError) as info:
        fn(*args)
    return info.value


def test_approve_moves_only_pending_completed_content():
    assert rules.approve_move(container("pending")) == "decide"
    assert rules.approve_move(container("approved")) == "already"
    assert rules.approve_move(container("approved", status="processing")) == "already"


@pytest.mark.parametrize("approval,status,code,reason", [
    ("rejected", "completed", "CONTENT_REJECTED", None),
    ("not_required", "completed", "CONFLICT", "NOT_PENDING"),
    ("pending", "processing", "CONFLICT", "CONTENT_NOT_READY"),
    ("pending", "failed", "CONFLICT", "CONTENT_NOT_READY"),
])
def test_approve_refusals(approval, status, code, reason):
    error = raised(rules.approve_move, container(approval, status))
    assert error.code == code
    assert error.details.get("reason") == reason
    assert error.details["containerId"] == CID


def test_reject_moves_only_pending_content_any_generation_state():
    assert rules.reject_move(container("pending")) == "decide"
    assert rules.reject_move(container("pending", status="processing")) == "decide"
    assert rules.reject_move(container("rejected")) == "already"
    for approval in ("approved", "not_required"):
        error = raised(rules.reject_move, container(approval))
        assert isinstance(error, errors.Conflict)
        assert (error.code, error.details["reason"], error.details["approvalStatus"]) == \
            ("CONFLICT", "NOT_PENDING", approval)


def test_stashed_ids():
    assert rules.stashed_ids(None) == [] and rules.stashed_ids({}) == []
    pending = {"targets": [{"scheduledPostId": "sp_a"}, {"mode": "draft"}, {"scheduledPostId": "sp_b"}]}
    assert rules.stashed_ids(pending) == ["sp_a", "sp_b"]


def test_promotion_blocks():
    assert rules.promotion_ok(["sp_a"]) == {"status": "ok", "scheduledPostIds": ["sp_a"]}
    failed = rules.promotion_failed(errors.NotPublishReady("sa_1", "publish", "status:reauth_required"))
    assert failed == {"status": "failed", "reason": "SOCIAL_ACCOUNT_NOT_PUBLISH_READY",
                      "message": failed["message"],
                      "details": {"socialAccountId": "sa_1", "mode": "publish", "reason": "status:reauth_required"}}
    assert "sa_1" in failed["message"]
    assert rules.promotion_failed(errors.DuplicateId(["sp_x"]))["reason"] == "CONFLICT_DUPLICATE_ID"
