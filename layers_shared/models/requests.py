"""What partners send: the schedule/publish body pieces.

Models are strict (no coercion: `"true"` is not a boolean) and refuse unknown
fields, so a typo is reported instead of silently ignored.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from layers_shared import ids

MAX_TARGETS = 50
MAX_OVERRIDE = 4000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TikTokPostSettings(Strict):
    privacyLevel: Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"] | None = None
    disableComment: bool | None = None
    disableDuet: bool | None = None
    disableStitch: bool | None = None
    isBrandOrganic: bool | None = None
    isBrandedContent: bool | None = None


class TikTokMusic(Strict):
    mode: Literal["none", "auto", "manual"]
    trackId: str | None = None

    @model_validator(mode="after")
    def _track(self) -> "TikTokMusic":
        if self.mode == "manual" and not self.trackId:
            raise ValueError("trackId is required when mode is 'manual'")
        if self.trackId is not None and not ids.is_uuid(self.trackId):
            raise ValueError("trackId must be a UUID from GET /v1/tiktok-music")
        return self


class Target(Strict):
    socialAccountId: str = Field(min_length=1, max_length=200)
    mode: Literal["publish", "draft", "managed"]
    captionOverride: str | None = Field(default=None, max_length=MAX_OVERRIDE)
    firstCommentOverride: str | None = Field(default=None, max_length=MAX_OVERRIDE)
    tiktokPostSettings: TikTokPostSettings | None = None
    tiktokMusic: TikTokMusic | None = None
    shareReelToFeed: bool | None = None
    scheduledPostId: str | None = None

    @property
    def share_reel_set(self) -> bool:
        """Present counts as set, `false` (and null) included (decisions.md)."""
        return "shareReelToFeed" in self.model_fields_set


class ApproveBody(Strict):
    note: str | None = Field(default=None, max_length=1024)


class RejectBody(Strict):
    reason: str = Field(min_length=1, max_length=1024)


class CancelBody(Strict):
    reason: str | None = Field(default=None, max_length=1024)


class RescheduleBody(Strict):
    scheduledFor: str


class NotifyDeviceBody(Strict):
    phoneNumber: str | None = None
