"""What partners receive: the body of every success answer, and the error
envelope. These models are the source of `docs/openapi.json`; the shapes
themselves are produced by `views.py` and the services, and schemathesis
checks that the two agree on the local stack.

Every field is required (present, possibly `null`) unless it has a default,
and unknown fields are refused, so the document is exact about today's
answers. Clients must still ignore fields added later (platform.md §5.4).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema

from layers_shared.models.entities import (
    AccountStatus, ApprovalStatus, ContainerStatus, MediaType, Mode, Platform, PostStatus, Tier,
)

Instant = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time",
                                         "description": "UTC instant, ISO 8601 with `Z`."})]
PrivacyLevel = Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
ScheduledPostId = Annotated[str, WithJsonSchema({"type": "string", "pattern": "^sp_[0-9a-fA-F-]{36}$"})]


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors -----------------------------------------------------------------------------


class ValidationIssue(Shape):
    path: str = Field(description='Where, e.g. `targets[3].mode`; `""` is the whole body.')
    code: str = Field(description="Machine-readable kind, e.g. `required`, `invalid_enum`, `unknown_field`.")
    message: str


class Error(Shape):
    code: str = Field(description=(
        "Stable machine string; branch on it. `UNAUTHENTICATED` 401, `FORBIDDEN_SCOPE` 403, "
        "`APPROVAL_REQUIRED` 403, `NOT_FOUND` 404, `CONFLICT` 409 (`details.reason`), "
        "`CONFLICT_DUPLICATE_ID` 409, `CONTENT_REJECTED` 409, `IDEMPOTENCY_CONFLICT` 409, `VALIDATION` 422 "
        "(`details.issues[]`), `SOCIAL_ACCOUNT_NOT_PUBLISH_READY` 422, `RATE_LIMITED` 429, "
        "`PLATFORM_ERROR` 502/503 (`details.reason`), `INTERNAL` 500 (a bug). New codes may be added."))
    message: str = Field(description="A sentence for humans; not for branching.")
    requestId: str = Field(pattern=r"^req_[0-9A-Z]{26}$", description="Same value as the `X-Request-Id` header.")
    details: dict[str, Any] = Field(description=(
        "Always an object. Keys seen: `reason`, `issues` (array of {path, code, message}; at most 100, with "
        "`issuesOmitted` counting the rest), `requiredScope`, "
        "`containerId`, `approvalStatus`, `socialAccountId`, `mode`, `scheduledPostIds`, `providerError`."))


class ErrorEnvelope(Shape):
    error: Error


# -- publishing -------------------------------------------------------------------------


class ScheduleResult(Shape):
    scheduledPostIds: list[ScheduledPostId] = Field(description="One per target, in request order.")
    gateStatus: Literal["queued", "blocked_on_approval"] = Field(description=(
        "`queued` (200): the rows exist. `blocked_on_approval` (202): stashed on the container; approval "
        "promotes it and the rows adopt these ids."))
    scheduledFor: Instant


class DryRunTarget(Shape):
    socialAccountId: str
    platform: Platform
    mode: Mode
    privacyLevel: PrivacyLevel | None = Field(description=(
        "TikTok `publish` targets: the level the post would use; `null` on others, and while a live "
        "`creator_info` cannot be read (the publisher decides before its init)."))


class DryRunResult(Shape):
    dryRun: Literal[True]
    valid: Literal[True] = Field(description="Every check passed; the same call without `dryRun` would succeed "
                                             "unless something changes in between.")
    gateStatus: Literal["queued", "blocked_on_approval"]
    scheduledFor: Instant
    targets: list[DryRunTarget] = Field(description="One per target, in request order.")


class ScheduleAnswer(RootModel[ScheduleResult | DryRunResult]):
    """`ScheduleResult`, or `DryRunResult` when `?dryRun=true`."""


class NotifyDeviceResult(Shape):
    containerId: str
    deliveryStatus: Literal["sent"]
    phoneNumberLast4: str = Field(pattern=r"^\d{4}$")
    providerChatId: str = Field(description="Stable per (organization, phone): resends land in the same thread.")
    mediaCount: int = Field(ge=0)


class LastError(Shape):
    code: str
    message: str
    platformCode: str | None = Field(default=None, description="Upstream code; absent when there is none.")


class ScheduledPost(Shape):
    id: ScheduledPostId
    projectId: str
    containerId: str
    socialAccountId: str
    platform: Platform
    mode: Mode
    status: PostStatus
    externalId: str | None
    externalUrl: str | None
    scheduledFor: Instant
    attemptedAt: Instant | None
    publishedAt: Instant | None
    canceledAt: Instant | None
    lastError: LastError | None
    privacyLevel: PrivacyLevel | None = Field(description=(
        "TikTok `publish` posts: the privacy level the publisher will use (the one given, else the most open "
        "option the account's `creator_info` offers); `null` while a live `creator_info` could not be read yet "
        "(the publisher decides before its init), and on every other post."))
    createdAt: Instant
    updatedAt: Instant


class ScheduledPostPage(Shape):
    items: list[ScheduledPost] = Field(description="Newest `scheduledFor` first.")
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page; `null` on the last page.")


class RescheduleResult(Shape):
    id: ScheduledPostId
    status: Literal["queued"]
    scheduledFor: Instant
    updatedAt: Instant


class CancelResult(Shape):
    id: ScheduledPostId
    status: Literal["canceled"]
    canceledAt: Instant


# -- content and approval ---------------------------------------------------------------


class Asset(Shape):
    kind: Literal["video", "image"]
    url: str


class PendingSchedule(Shape):
    scheduledFor: Instant
    scheduledPostIds: list[ScheduledPostId]


class Container(Shape):
    id: str
    projectId: str
    status: ContainerStatus
    approvalStatus: ApprovalStatus
    mediaType: MediaType
    caption: str | None
    firstComment: str | None
    assets: list[Asset]
    pendingSchedule: PendingSchedule | None = Field(description="A schedule waiting for approval, if any.")
    approvedAt: Instant | None
    approvedBy: str | None
    rejectedAt: Instant | None
    rejectedBy: str | None
    rejectionReason: str | None
    createdAt: Instant | None


class PromotionOk(Shape):
    status: Literal["ok"]
    scheduledPostIds: list[ScheduledPostId] = Field(description="The ids the 202 promised, now `queued` rows.")


class PromotionFailed(Shape):
    status: Literal["failed"]
    reason: str = Field(description="The error code the stash would get now, e.g. `SOCIAL_ACCOUNT_NOT_PUBLISH_READY`.")
    message: str
    details: dict[str, Any]


class ApproveResult(Shape):
    id: str
    approvalStatus: Literal["approved"]
    approvedAt: Instant | None
    approvedBy: str | None
    pendingSchedulePromotion: Annotated[PromotionOk | PromotionFailed, Field(discriminator="status")] | None = Field(
        description="`null` when nothing was stashed (or on a repeated approve).")


class RejectResult(Shape):
    id: str
    approvalStatus: Literal["rejected"]
    rejectedAt: Instant | None
    rejectedBy: str | None
    rejectionReason: str | None
    reason: str | None = Field(description="Same as `rejectionReason` (the name the approval docs use).")
    droppedScheduledPostIds: list[ScheduledPostId] = Field(description="Ids of a stashed schedule, now dropped.")


# -- accounts, music, whoami ------------------------------------------------------------


class Readiness(Shape):
    ready: bool
    reason: str | None = Field(description="e.g. `missing_scope:video.publish`, `status:reauth_required`, "
                                            "`no_managed_layer`, `no_provider`; `null` when ready.")


class PublishReadiness(Shape):
    publish: Readiness
    draft: Readiness
    managed: Readiness


class SocialAccount(Shape):
    socialAccountId: str
    platform: Platform
    handle: str
    avatarUrl: str | None
    status: AccountStatus
    leased: bool
    connectedAt: Instant | None
    tokenExpiresAt: Instant | None
    instagramAccountType: Literal["business", "creator", "personal"] | None
    publishReadiness: PublishReadiness


class SocialAccountPage(Shape):
    items: list[SocialAccount]
    nextCursor: str | None


class MusicTrack(Shape):
    id: str = Field(description="Goes in `targets[].tiktokMusic.trackId`.")
    title: str
    author: str
    album: str
    duration: float = Field(description="Seconds.")
    previewUrl: str | None
    coverUrl: str | None
    language: str
    userCount: int = Field(description="Popularity; the list is sorted by it, descending.")
    isCommerceMusic: bool


class MusicCatalog(Shape):
    tracks: list[MusicTrack]
    total: int = Field(ge=0)


class Whoami(Shape):
    organizationId: str
    organizationName: str
    apiKeyId: str = Field(description="The 16-character key id (not the secret).")
    scopes: list[str]
    rateLimitTier: Tier
    mode: Literal["live", "test"]
