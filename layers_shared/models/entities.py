"""Stored entities, in the camelCase the API speaks."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Tier = Literal["standard", "pilot", "partner"]
Platform = Literal["tiktok", "instagram"]
AccountStatus = Literal["connected", "reauth_required", "disconnected"]
ContainerStatus = Literal["queued", "processing", "completed", "failed", "canceled"]
ApprovalStatus = Literal["not_required", "pending", "approved", "rejected"]
MediaType = Literal["video", "image", "slideshow"]
Mode = Literal["publish", "draft", "managed"]
PostStatus = Literal["queued", "publishing", "published", "draft", "failed", "canceled"]
TERMINAL_STATUSES = ("published", "draft", "failed", "canceled")

MANAGED_TEMPLATE_ID = "af058068-ad85-4fb8-92a1-f531b40bfcbc"


class Entity(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Organization(Entity):
    id: str
    name: str
    tier: Tier = "standard"
    primaryOperatorUserId: str | None = None


class User(Entity):
    id: str
    organizationId: str
    phoneNumber: str | None = None
    phoneVerified: bool = False


class ApiKey(Entity):
    keyId: str
    env: Literal["live", "test"]
    secretHash: str
    organizationId: str
    ownerUserId: str | None = None
    scopes: list[str] = Field(default_factory=list)
    revoked: bool = False


class Project(Entity):
    id: str
    organizationId: str
    name: str = ""
    requiresApproval: bool = False


class Layer(Entity):
    id: str
    projectId: str
    templateId: str
    config: dict[str, Any] = Field(default_factory=dict)


class Sandbox(Entity):
    outcome: str = "success"


class SocialAccount(Entity):
    id: str
    projectId: str
    organizationId: str
    platform: Platform
    handle: str
    status: AccountStatus = "connected"
    grantedScopes: list[str] = Field(default_factory=list)
    instagramAccountType: Literal["business", "creator", "personal"] | None = None
    layerIds: list[str] = Field(default_factory=list)
    sandbox: Sandbox = Field(default_factory=Sandbox)
    avatarUrl: str | None = None
    connectedAt: str | None = None
    tokenExpiresAt: str | None = None
    platformUserId: str | None = None
    privacyLevelOptions: list[str] | None = None  # sandbox only: what creator_info would offer


class Media(Entity):
    url: str
    kind: Literal["video", "image"] = "image"


class Container(Entity):
    id: str
    projectId: str
    organizationId: str
    status: ContainerStatus
    approvalStatus: ApprovalStatus = "not_required"
    mediaType: MediaType
    caption: str | None = None
    firstComment: str | None = None
    media: list[Media] = Field(default_factory=list)
    pendingSchedule: dict[str, Any] | None = None
    createdAt: str | None = None
    approvedAt: str | None = None
    approvedBy: str | None = None
    approvalNote: str | None = None
    rejectedAt: str | None = None
    rejectedBy: str | None = None
    rejectionReason: str | None = None


class MusicTrack(Entity):
    id: str
    title: str
    author: str = ""
    album: str = ""
    duration: float = 0
    language: str = ""
    userCount: int = 0
    isCommerceMusic: bool = False
    previewUrl: str | None = None
    coverUrl: str | None = None


class LastError(Entity):
    code: str
    message: str
    platformCode: str | None = None


class ScheduledPost(Entity):
    id: str
    organizationId: str
    projectId: str
    containerId: str
    socialAccountId: str
    platform: Platform
    handle: str
    mode: Mode
    env: Literal["live", "test"]
    status: PostStatus = "queued"
    scheduledFor: str  # storage form (fixed width)
    mediaType: MediaType
    media: list[Media] = Field(default_factory=list)
    caption: str | None = None
    firstComment: str | None = None
    tiktokPostSettings: dict[str, Any] | None = None
    tiktokMusic: dict[str, Any] | None = None
    shareReelToFeed: bool | None = None
    managedProvider: str | None = None
    # TikTok direct posts: the level the publisher will use (None until a live
    # creator_info could be read); tiktokPostSettings keeps what was asked.
    privacyLevel: str | None = None
    externalId: str | None = None
    externalUrl: str | None = None
    attemptedAt: str | None = None
    publishedAt: str | None = None
    canceledAt: str | None = None
    cancelReason: str | None = None
    lastError: LastError | None = None
    attempts: int = 0
    platformState: dict[str, Any] | None = None
    createdAt: str
    updatedAt: str
    createdByKeyId: str | None = None
