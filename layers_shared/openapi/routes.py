"""The route table of the partner API: everything the document says about
each operation that is not a pydantic model. One entry per API route of
template.yaml (tests/unit/test_openapi_drift.py holds them equal)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from layers_shared.models import requests as rq
from layers_shared.models import responses as rs
from layers_shared.openapi.bodies import PublishBody, ScheduleBody


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "path" | "query"
    schema: dict[str, Any]
    description: str = ""
    required: bool = False
    example: Any = None


@dataclass(frozen=True)
class Success:
    status: int
    model: type[BaseModel]
    description: str


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    description: str
    scope: str | None
    success: tuple[Success, ...]
    # status -> codes that status can carry on this route (401/429/500 are added for every route)
    errors: dict[int, tuple[str, ...]]
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    body_required: bool = True
    idempotent: bool = False
    notes: dict[int, str] = field(default_factory=dict)  # status -> when


# -- parameters ---------------------------------------------------------------------------

UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def _id(name: str, prefix: str, what: str, example: str) -> Param:
    return Param(name, "path", {"type": "string"}, required=True, example=example, description=(
        f"{what} id, `{prefix}_<uuid>` or the bare UUID. Anything else, or an id of another organization, is 404."))


CONTAINER_ID = _id("containerId", "cnt", "Content container", "cnt_66666666-6666-4666-8666-000000000001")
POST_ID = _id("scheduledPostId", "sp", "Scheduled post", "sp_4c8e7d2f-9a1b-4c3d-8e7f-2a1b3c4d5e60")
PROJECT_ID = _id("projectId", "prj", "Project", "prj_33333333-3333-4333-8333-000000000001")


def _limit(default: int, maximum: int) -> Param:
    return Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
                 f"Page size, 1..{maximum} (default {default}).")


CURSOR = Param("cursor", "query", {"type": "string"}, "`nextCursor` of the previous page, with the same filters; "
               "any other value is 422.")


def _enum_list(name: str, values: tuple[str, ...], what: str) -> Param:
    return Param(name, "query", {"type": "array", "items": {"type": "string", "enum": list(values)}},
                 f"{what}; repeat the parameter (or separate with commas) for any of several.")


POST_STATUSES = ("queued", "publishing", "published", "draft", "failed", "canceled")

# -- the common error sets -----------------------------------------------------------------

WRITE_409 = ("CONFLICT", "CONFLICT_DUPLICATE_ID", "CONTENT_REJECTED", "IDEMPOTENCY_CONFLICT")
SCHEDULE_422 = ("VALIDATION", "SOCIAL_ACCOUNT_NOT_PUBLISH_READY")
DRY_RUN = Param("dryRun", "query", {"type": "boolean", "default": False}, (
    "`true`: run every check (body, container, approval gate, accounts, platform limits, TikTok privacy) and "
    "answer `200 DryRunResult` or the same error as the real call; nothing is written, no `Idempotency-Key` is "
    "consumed, and the request counts as `read-light` for rate limits."))


ROUTES: tuple[Route, ...] = (
    Route(
        "POST", "/v1/content/{containerId}/schedule", "scheduleContent", "Publishing",
        "Schedule a content container",
        "Schedules a `completed` container to up to 50 accounts at `scheduledFor`; all-or-nothing. On an approval-"
        "gated project with a `pending` container the intent is stashed (202) and approve promotes it.",
        "publish:write",
        success=(Success(200, rs.ScheduleAnswer, "Rows written: `gateStatus: \"queued\"`; with `dryRun=true`, a "
                                                 "`DryRunResult` (nothing written)."),
                 Success(202, rs.ScheduleResult, "Stashed until approval: `gateStatus: \"blocked_on_approval\"`.")),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",), 409: WRITE_409, 422: SCHEDULE_422},
        params=(CONTAINER_ID, DRY_RUN), body=ScheduleBody, idempotent=True,
        notes={404: "Container, or any target's social account, not in your organization.",
               409: "`CONFLICT` container not `completed` (`details.reason: CONTENT_NOT_READY`); "
                    "`CONFLICT_DUPLICATE_ID` a supplied `scheduledPostId` exists; `CONTENT_REJECTED`.",
               422: "`VALIDATION` (every issue in `details.issues`), or `SOCIAL_ACCOUNT_NOT_PUBLISH_READY`."},
    ),
    Route(
        "POST", "/v1/content/{containerId}/publish", "publishContent", "Publishing",
        "Publish a content container now",
        "Same targets as schedule, with `scheduledFor = now`: rows are created `queued` and published at once.",
        "publish:write",
        success=(Success(200, rs.ScheduleAnswer, "Rows written: `gateStatus: \"queued\"`; with `dryRun=true`, a "
                                                 "`DryRunResult` (nothing written)."),),
        errors={403: ("FORBIDDEN_SCOPE", "APPROVAL_REQUIRED"), 404: ("NOT_FOUND",), 409: WRITE_409,
                422: SCHEDULE_422},
        params=(CONTAINER_ID, DRY_RUN), body=PublishBody, idempotent=True,
        notes={403: "`APPROVAL_REQUIRED` when the container awaits approval."},
    ),
    Route(
        "POST", "/v1/content/{containerId}/notify-device", "notifyDevice", "Publishing",
        "Text a container to a phone",
        "Sends three messages (media, caption, posting instructions) to `phoneNumber`, or to the key owner's "
        "verified phone when it is omitted.",
        "publish:write",
        success=(Success(200, rs.NotifyDeviceResult, "All three messages accepted by the provider."),),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",),
                409: ("CONFLICT", "CONTENT_REJECTED", "IDEMPOTENCY_CONFLICT"),
                422: ("VALIDATION",), 502: ("PLATFORM_ERROR",), 503: ("PLATFORM_ERROR",)},
        params=(CONTAINER_ID,), body=rq.NotifyDeviceBody, body_required=False, idempotent=True,
        notes={422: "`details.reason`: `PHONE_REQUIRED`, `OWNER_PHONE_UNVERIFIED`, `NO_MEDIA`, or a malformed "
                    "phone (E.164).",
               502: "`details.reason: PROVIDER_REJECTED` (`details.providerError`).",
               503: "`details.reason: SMS_PROVIDER_UNAVAILABLE`: no SMS provider configured."},
    ),
    Route(
        "GET", "/v1/content/{containerId}", "getContent", "Content", "Get a content container",
        "The container as partners see it, with its approval state and any stashed schedule.",
        "content:read",
        success=(Success(200, rs.Container, "The container."),),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",)},
        params=(CONTAINER_ID,),
    ),
    Route(
        "POST", "/v1/content/{containerId}/approve", "approveContent", "Content", "Approve a content container",
        "`pending -> approved`; promotes a stashed schedule in the same transaction. If the stash no longer holds, "
        "approval still happens and `pendingSchedulePromotion.status` is `failed` (no rows). Approving twice is "
        "harmless.",
        "content:approve",
        success=(Success(200, rs.ApproveResult, "Approved (now or before)."),),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",),
                409: ("CONFLICT", "CONTENT_REJECTED", "IDEMPOTENCY_CONFLICT"), 422: ("VALIDATION",)},
        params=(CONTAINER_ID,), body=rq.ApproveBody, body_required=False, idempotent=True,
        notes={409: "`CONFLICT` with `details.reason` `NOT_PENDING` (no approval needed) or `CONTENT_NOT_READY`; "
                    "`CONTENT_REJECTED`."},
    ),
    Route(
        "POST", "/v1/content/{containerId}/reject", "rejectContent", "Content", "Reject a content container",
        "`pending -> rejected`; a stashed schedule is dropped and later schedule/publish calls answer "
        "`409 CONTENT_REJECTED`.",
        "content:approve",
        success=(Success(200, rs.RejectResult, "Rejected (now or before)."),),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",), 409: ("CONFLICT", "IDEMPOTENCY_CONFLICT"),
                422: ("VALIDATION",)},
        params=(CONTAINER_ID,), body=rq.RejectBody, idempotent=True,
        notes={409: "`CONFLICT` with `details.reason: NOT_PENDING` (approved, or no approval needed)."},
    ),
    Route(
        "GET", "/v1/scheduled-posts/{scheduledPostId}", "getScheduledPost", "Scheduled posts",
        "Get a scheduled post",
        "Lifecycle `queued -> publishing -> published | draft | failed`, `queued -> canceled`.",
        "publish:read",
        success=(Success(200, rs.ScheduledPost, "The scheduled post."),),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",)},
        params=(POST_ID,),
    ),
    Route(
        "GET", "/v1/projects/{projectId}/scheduled-posts", "listScheduledPosts", "Scheduled posts",
        "List a project's scheduled posts",
        "Newest `scheduledFor` first, cursor-paginated.",
        "publish:read",
        success=(Success(200, rs.ScheduledPostPage, "A page of scheduled posts."),),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",), 422: ("VALIDATION",)},
        params=(PROJECT_ID, _enum_list("status", POST_STATUSES, "Only posts in these statuses"),
                Param("socialAccountId", "query", {"type": "string"}, "Only posts to this account (`sa_<uuid>`)."),
                Param("containerId", "query", {"type": "string"}, "Only posts of this container (`cnt_<uuid>`)."),
                Param("from", "query", {"type": "string", "format": "date-time"},
                      "`scheduledFor` at or after this instant (inclusive)."),
                Param("to", "query", {"type": "string", "format": "date-time"},
                      "`scheduledFor` before this instant (exclusive)."),
                _limit(50, 100), CURSOR),
    ),
    Route(
        "POST", "/v1/scheduled-posts/{scheduledPostId}/reschedule", "rescheduleScheduledPost", "Scheduled posts",
        "Reschedule a queued post",
        "Only a `queued` post moves; captions and targets are immutable.",
        "publish:write",
        success=(Success(200, rs.RescheduleResult, "Rescheduled."),),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",), 409: ("CONFLICT", "IDEMPOTENCY_CONFLICT"),
                422: ("VALIDATION",)},
        params=(POST_ID,), body=rq.RescheduleBody, idempotent=True,
        notes={409: "`CONFLICT` with `details.reason` `ALREADY_PUBLISHING` or `NOT_QUEUED` (terminal)."},
    ),
    Route(
        "DELETE", "/v1/scheduled-posts/{scheduledPostId}", "cancelScheduledPost", "Scheduled posts",
        "Cancel a queued post",
        "Only a `queued` post cancels; the row stays with `status: \"canceled\"`.",
        "publish:write",
        success=(Success(200, rs.CancelResult, "Canceled."),),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",), 409: ("CONFLICT", "IDEMPOTENCY_CONFLICT"),
                422: ("VALIDATION",)},
        params=(POST_ID,), body=rq.CancelBody, body_required=False, idempotent=True,
        notes={409: "`CONFLICT` with `details.reason` `ALREADY_PUBLISHING` or `NOT_QUEUED` (terminal)."},
    ),
    Route(
        "GET", "/v1/projects/{projectId}/social-accounts", "listSocialAccounts", "Social accounts",
        "List a project's social accounts",
        "Each item says for which modes it is publish-ready, and why not.",
        "social:read",
        success=(Success(200, rs.SocialAccountPage, "A page of social accounts."),),
        errors={403: ("FORBIDDEN_SCOPE",), 404: ("NOT_FOUND",), 422: ("VALIDATION",)},
        params=(PROJECT_ID, _enum_list("platform", ("tiktok", "instagram"), "Only these platforms"),
                _enum_list("status", ("connected", "reauth_required", "disconnected"), "Only these statuses"),
                _limit(50, 200), CURSOR),
    ),
    Route(
        "GET", "/v1/tiktok-music", "listTikTokMusic", "Music", "List the TikTok music catalog",
        "Every track, most used first; a track's `id` goes in `targets[].tiktokMusic.trackId`.",
        "publish:read",
        success=(Success(200, rs.MusicCatalog, "The catalog."),),
        errors={403: ("FORBIDDEN_SCOPE",)},
    ),
    Route(
        "GET", "/v1/whoami", "whoami", "Account", "Describe the calling key",
        "Works with any valid key, whatever its scopes.",
        None,
        success=(Success(200, rs.Whoami, "The key, its organization and its limits."),),
        errors={},
    ),
)


def by_route() -> dict[tuple[str, str], Route]:
    return {(r.method, r.path): r for r in ROUTES}


# Webhook routes live in their own module (webhooks.md); it reads the helpers above.
from layers_shared.openapi.webhook_routes import WEBHOOK_ROUTES  # noqa: E402

ROUTES = ROUTES + WEBHOOK_ROUTES
