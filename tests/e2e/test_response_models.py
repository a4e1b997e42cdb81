"""The happy paths schemathesis rarely reaches with random ids (a real
schedule, a promotion, a notify-device send), answered by the local stack and
validated against models/responses.py. The document is generated from those
models (the drift test), so this is conformance to docs/openapi.json too."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from layers_shared.models import responses as rs
from tests import support
from tests.support import Client, Reply


def conforms(reply: Reply, status: int, model: type[BaseModel]) -> dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body)
    assert reply.header("X-Request-Id").startswith("req_")
    model.model_validate(reply.body, strict=True)  # unknown fields and wrong types both fail
    return reply.body


def test_errors_use_the_envelope(api: Client) -> None:
    conforms(api.get("/v1/scheduled-posts/sp_00000000-0000-4000-8000-000000000000"), 404, rs.ErrorEnvelope)
    conforms(api.schedule(support.VIDEO, [{"socialAccountId": support.TIKTOK, "mode": "nope"}]), 422,
             rs.ErrorEnvelope)


def test_schedule_get_list_reschedule_cancel(api: Client) -> None:
    made = conforms(api.schedule(support.VIDEO, [{"socialAccountId": support.TIKTOK, "mode": "publish"}],
                                 support.future(60 * 24 * 3)), 200, rs.ScheduleResult)
    [post_id] = made["scheduledPostIds"]
    conforms(api.get(f"/v1/scheduled-posts/{post_id}"), 200, rs.ScheduledPost)
    page = conforms(api.get(f"/v1/projects/{support.prj(1)}/scheduled-posts?limit=1"), 200, rs.ScheduledPostPage)
    assert len(page["items"]) == 1
    conforms(api.post(f"/v1/scheduled-posts/{post_id}/reschedule", {"scheduledFor": support.future(60 * 24 * 4)}),
             200, rs.RescheduleResult)
    conforms(api.delete(f"/v1/scheduled-posts/{post_id}", {"reason": "changed plans"}), 200, rs.CancelResult)


def test_stash_then_approve_promotes(api: Client) -> None:
    stashed = conforms(api.schedule(support.PENDING, [{"socialAccountId": support.GATED_ACCOUNT, "mode": "publish"}]),
                       202, rs.ScheduleResult)
    container = conforms(api.get(f"/v1/content/{support.PENDING}"), 200, rs.Container)
    assert container["pendingSchedule"]["scheduledPostIds"] == stashed["scheduledPostIds"]
    approved = conforms(api.post(f"/v1/content/{support.PENDING}/approve", {"note": "ok"}), 200, rs.ApproveResult)
    assert approved["pendingSchedulePromotion"] == {"status": "ok", "scheduledPostIds": stashed["scheduledPostIds"]}


def test_reject(api: Client) -> None:
    conforms(api.post(f"/v1/content/{support.PENDING_2}/reject", {"reason": "off brand"}), 200, rs.RejectResult)


def test_notify_device(api: Client) -> None:
    conforms(api.post(f"/v1/content/{support.VIDEO}/notify-device", {}), 200,  # the key owner's phone
             rs.NotifyDeviceResult)


def test_accounts_music_whoami(api: Client) -> None:
    accounts = conforms(api.get(f"/v1/projects/{support.prj(1)}/social-accounts"), 200, rs.SocialAccountPage)
    assert accounts["items"]
    music = conforms(api.get("/v1/tiktok-music"), 200, rs.MusicCatalog)
    assert music["tracks"]
    conforms(api.get("/v1/whoami"), 200, rs.Whoami)
